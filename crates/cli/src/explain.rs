//! `schannel explain`.

use crate::CmdResult;
use std::path::Path;

/// Arguments of `schannel explain`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `schannel explain`.
pub fn run(_args: Args, _data_dir: &Path) -> CmdResult {
    Err("`schannel explain` is not built yet".into())
}

//! `schannel config`.

use crate::CmdResult;
use std::path::Path;

/// Arguments of `schannel config`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `schannel config`.
pub fn run(_args: Args, _data_dir: &Path) -> CmdResult {
    Err("`schannel config` is not built yet".into())
}

//! `schannel events`.

use crate::CmdResult;
use std::path::Path;

/// Arguments of `schannel events`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `schannel events`.
pub fn run(_args: Args, _data_dir: &Path) -> CmdResult {
    Err("`schannel events` is not built yet".into())
}

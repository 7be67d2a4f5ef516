//! `schannel serve`.

use crate::CmdResult;
use std::path::Path;

/// Arguments of `schannel serve`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `schannel serve`.
pub fn run(_args: Args, _data_dir: &Path) -> CmdResult {
    Err("`schannel serve` is not built yet".into())
}

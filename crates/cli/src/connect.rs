//! `schannel connect`.

use crate::CmdResult;
use std::path::Path;

/// Arguments of `schannel connect`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Run `schannel connect`.
pub fn run(_args: Args, _data_dir: &Path) -> CmdResult {
    Err("`schannel connect` is not built yet".into())
}

//! `--revocation` and `--revocation-offline`, shared by `connect` and `serve`: Schannel's
//! SCH_CRED_REVOCATION_CHECK_* and SCH_CRED_IGNORE_* credential flags.

use securechannel::{RevocationCheck, RevocationOffline};

/// The revocation flags of a command that validates its peer's certificate.
#[derive(clap::Args, Debug, Clone)]
pub struct RevocationArgs {
    /// Check the peer's certificates for revocation: `none`, `end` (the end certificate,
    /// SCH_CRED_REVOCATION_CHECK_END_CERT), `chain` (_CHAIN) or `chain-except-root`
    /// (_CHAIN_EXCLUDE_ROOT). CRLs come from crl/ and the certificates' CRL distribution
    /// points (http://, file://; kept in crl/ until their nextUpdate). Without this flag,
    /// the chain below the root is checked against the CRLs that can be had, and an
    /// unknown status is accepted.
    #[arg(long, value_name = "MODE", value_parser = parse_check)]
    pub revocation: Option<RevocationCheck>,
    /// With --revocation: when no fresh CRL can be had (a distribution point fails, a CRL
    /// expired, none exists), `fail` (the default: CRYPT_E_REVOCATION_OFFLINE or
    /// CRYPT_E_NO_REVOCATION_CHECK) or `ignore` (SCH_CRED_IGNORE_NO_REVOCATION_CHECK |
    /// SCH_CRED_IGNORE_REVOCATION_OFFLINE).
    #[arg(long, value_name = "POLICY", value_parser = parse_offline, requires = "revocation")]
    pub revocation_offline: Option<RevocationOffline>,
}

impl RevocationArgs {
    /// The mode and policy the flags ask for; `None` leaves the credential's default.
    pub fn choice(&self) -> Option<(RevocationCheck, RevocationOffline)> {
        self.revocation.map(|check| {
            (
                check,
                self.revocation_offline.unwrap_or(RevocationOffline::Fail),
            )
        })
    }
}

fn parse_check(s: &str) -> Result<RevocationCheck, String> {
    RevocationCheck::from_name(s).ok_or_else(|| {
        format!("`{s}` is not a revocation mode (none, end, chain, chain-except-root)")
    })
}

fn parse_offline(s: &str) -> Result<RevocationOffline, String> {
    RevocationOffline::from_name(s)
        .ok_or_else(|| format!("`{s}` is not an offline policy (fail, ignore)"))
}

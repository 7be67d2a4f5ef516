#!/usr/bin/env python3
"""Writes the .reg templates of the CLI tests (tests/config_reg_cli.rs) in both encodings:

  NAME.reg           regedit's export layout: FF FE, UTF-16LE, CRLF, "Windows Registry
                     Editor Version 5.00", hex(7) strings in UTF-16LE
  NAME.regedit4.reg  ANSI (Windows-1252), CRLF, "REGEDIT4", hex(7) strings 8-bit

Run it here (python3 regenerate.py) after changing a template; commit the .reg files.
"""
S = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
P = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002"

def off(key):
    return f'[{S}\\{key}]\n"Enabled"=dword:00000000\n"DisabledByDefault"=dword:00000001\n\n'
def on(key, enabled="00000001"):
    return f'[{S}\\{key}]\n"Enabled"=dword:{enabled}\n"DisabledByDefault"=dword:00000000\n\n'

def hex7(items, v5):
    data = b"".join((i + "\0").encode("utf-16-le" if v5 else "cp1252") for i in items) + ("\0".encode("utf-16-le" if v5 else "cp1252"))
    # wrap like regedit: at most 80 columns, `\` at the end, continuation lines indented by 2
    lines, line = [], '"EccCurves"=hex(7):'
    for n, b in enumerate(data):
        piece = f"{b:02x}" + ("," if n + 1 < len(data) else "")
        if len(line) + len(piece) + 1 > 80:
            lines.append(line + "\\")
            line = "  "
        line += piece
    lines.append(line)
    return "\n".join(lines) + "\n"

def tls_only(v5):
    t = "; TLS 1.2 and TLS 1.3 only.\n; Disables SSL 2.0, SSL 3.0, TLS 1.0 and TLS 1.1 for clients and servers\n; (Enabled=0, DisabledByDefault=1). Reboot required on Windows.\n\n"
    t += f"[{S}\\Protocols]\n\n"
    for p in ["SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"]:
        t += f"[{S}\\Protocols\\{p}]\n\n" + off(f"Protocols\\{p}\\Client") + off(f"Protocols\\{p}\\Server")
    for p in ["TLS 1.2", "TLS 1.3"]:
        t += f"[{S}\\Protocols\\{p}]\n\n" + on(f"Protocols\\{p}\\Client") + on(f"Protocols\\{p}\\Server")
    t += "; .NET Framework 4.x: let applications use the operating system's protocols\n"
    for node in ["", "WOW6432Node\\"]:
        t += f'[HKEY_LOCAL_MACHINE\\SOFTWARE\\{node}Microsoft\\.NETFramework\\v4.0.30319]\n"SchUseStrongCrypto"=dword:00000001\n"SystemDefaultTlsVersions"=dword:00000001\n\n'
    return t

STRICT_SUITES = "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
def strict(v5):
    t = "; Strict: AEAD cipher suites only (TLS 1.3 first), ECDHE on X25519 or P-256,\n; no legacy ciphers, no MD5, no RSA key exchange.\n\n"
    t += f'[{P}]\n"Functions"="{STRICT_SUITES}"\n' + hex7(["curve25519", "NistP256"], v5) + "\n"
    t += f"[{S}\\Ciphers]\n\n"
    for c in ["NULL", "DES 56/56", "RC2 40/128", "RC2 56/128", "RC2 128/128", "RC4 40/128", "RC4 56/128", "RC4 64/128", "RC4 128/128", "Triple DES 168"]:
        t += f'[{S}\\Ciphers\\{c}]\n"Enabled"=dword:00000000\n\n'
    t += f'[{S}\\Hashes\\MD5]\n"Enabled"=dword:00000000\n\n'
    t += f'[{S}\\KeyExchangeAlgorithms\\PKCS]\n"Enabled"=dword:00000000\n\n'
    t += f'[{S}\\KeyExchangeAlgorithms\\Diffie-Hellman]\n"ServerMinKeyBitLength"=dword:00000c00\n\n'
    t += f'[{S}]\n"EventLogging"=dword:00000003\n\n'
    return t

LEGACY_SUITES = "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_3DES_EDE_CBC_SHA"
def legacy(v5):
    t = "; Legacy-friendly: keeps TLS 1.0 and Triple DES for old clients (point-of-sale\n; terminals, embedded devices). SSL 2.0 and 3.0 stay off.\n"
    if not v5:
        t += "; Gepr\u00fcft: IT-Sicherheit, \u00c4nderung 2024-117\n"
    t += "\n" + off("Protocols\\SSL 2.0\\Server") + off("Protocols\\SSL 3.0\\Server")
    t += on("Protocols\\TLS 1.0\\Server", "ffffffff") + on("Protocols\\TLS 1.0\\Client", "ffffffff")
    t += f'[{S}\\Ciphers\\Triple DES 168]\n"Enabled"=dword:ffffffff\n\n'
    t += f'[{S}\\Ciphers\\RC4 128/128]\n"Enabled"=dword:00000000\n\n'
    t += f'[{P}]\n"Functions"="{LEGACY_SUITES}"\n\n'
    return t

for name, make in [("tls12-tls13-only", tls_only), ("strict", strict), ("legacy-friendly", legacy)]:
    v5 = "Windows Registry Editor Version 5.00\n\n" + make(True)
    open(f"{name}.reg", "wb").write(b"\xff\xfe" + v5.replace("\n", "\r\n").encode("utf-16-le"))
    v4 = "REGEDIT4\n\n" + make(False)
    open(f"{name}.regedit4.reg", "wb").write(v4.replace("\n", "\r\n").encode("cp1252"))

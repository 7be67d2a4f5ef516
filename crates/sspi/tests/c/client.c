/*
 * A Schannel client written the way the Windows SDK's WebClient sample is: acquire a
 * credential, run the handshake loop (SECBUFFER_EXTRA / SEC_E_INCOMPLETE_MESSAGE), query
 * the context, send a request with EncryptMessage, read the reply with a DecryptMessage
 * loop (extra data, SEC_I_CONTEXT_EXPIRED), then shut down with ApplyControlToken +
 * InitializeSecurityContext. Only the socket calls differ from Windows.
 *
 * usage: client PORT TARGET [tls12|tls13|default] [v4|v5] [manual] [store SUBJECT] [alpn A,B]
 *               [verify NAME|-] [at UNIX-SECONDS] [memstore] [decrypts] [alertbuf]
 * Prints the reply on stdout; on failure prints "FAILED <call> 0x%08X" and exits 2.
 * With `verify` (and `manual`), the server's certificate is judged the way the SDK
 * sample's VerifyServerCertificate does (CertGetCertificateChain on the
 * REMOTE_CERT_CONTEXT with its hCertStore, or with `memstore` a memory store the program
 * fills from it; CertVerifyCertificateChainPolicy with CERT_CHAIN_POLICY_SSL): prints
 * "POLICY 0x%08X" and exits 3 when the policy refuses it. `decrypts` prints the status
 * of every DecryptMessage call. `alertbuf` asks without ISC_REQ_EXTENDED_ERROR and passes
 * a SECBUFFER_ALERT output buffer (as curl does): a failed call's alert comes there.
 */
#include "securechannel_sspi.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_BUFFER_SIZE 0x10000

static PSecurityFunctionTableA g_sspi;
static int g_alertbuf;

static int fail(const char *call, SECURITY_STATUS s) {
    printf("FAILED %s 0x%08X\n", call, (unsigned)s);
    fflush(stdout);
    return 2;
}

static int send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The sample's ClientHandshakeLoop, with its first call folded in. */
/* SEC_APPLICATION_PROTOCOLS for a comma-separated list (the ALPN wire list inside). */
static DWORD alpn_buffer(const char *list, unsigned char *out) {
    unsigned char wire[256];
    unsigned short n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        wire[n++] = (unsigned char)len;
        memcpy(wire + n, p, len);
        n += (unsigned short)len;
        p += len + (e ? 1 : 0);
    }
    SEC_APPLICATION_PROTOCOLS *protocols = (SEC_APPLICATION_PROTOCOLS *)out;
    SEC_APPLICATION_PROTOCOL_LIST *l = &protocols->ProtocolLists[0];
    l->ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
    l->ProtocolListSize = n;
    memcpy(l->ProtocolList, wire, n);
    protocols->ProtocolListsSize = (ULONG)(offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + n);
    return (DWORD)(offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists) + protocols->ProtocolListsSize);
}

static SECURITY_STATUS handshake(int fd, PCredHandle cred, const char *target, CtxtHandle *ctx,
                                 SecBuffer *extra_out, const char *alpn) {
    DWORD req = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |
                (g_alertbuf ? 0 : ISC_REQ_EXTENDED_ERROR) | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
    SecBufferDesc in_desc, out_desc;
    SecBuffer in_bufs[2], out_bufs[3];
    ULONG attrs;
    TimeStamp expiry;
    SECURITY_STATUS st;

    out_bufs[0].pvBuffer = NULL;
    out_bufs[0].BufferType = SECBUFFER_TOKEN;
    out_bufs[0].cbBuffer = 0;
    out_desc.cBuffers = 1;
    out_desc.pBuffers = out_bufs;
    out_desc.ulVersion = SECBUFFER_VERSION;
    unsigned char alpn_buf[512] __attribute__((aligned(8)));
    PSecBufferDesc first_in = NULL;
    if (alpn != NULL) {
        in_bufs[0].pvBuffer = alpn_buf;
        in_bufs[0].cbBuffer = alpn_buffer(alpn, alpn_buf);
        in_bufs[0].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
        in_desc.cBuffers = 1;
        in_desc.pBuffers = in_bufs;
        in_desc.ulVersion = SECBUFFER_VERSION;
        first_in = &in_desc;
    }
    st = g_sspi->InitializeSecurityContextA(cred, NULL, (SEC_CHAR *)target, req, 0, 0, first_in, 0,
                                            ctx, &out_desc, &attrs, &expiry);
    if (st != SEC_I_CONTINUE_NEEDED) return st;
    if (out_bufs[0].cbBuffer != 0 && out_bufs[0].pvBuffer != NULL) {
        if (send_all(fd, out_bufs[0].pvBuffer, out_bufs[0].cbBuffer) != 0) return SEC_E_INTERNAL_ERROR;
        g_sspi->FreeContextBuffer(out_bufs[0].pvBuffer);
        out_bufs[0].pvBuffer = NULL;
    }

    char *io = malloc(IO_BUFFER_SIZE);
    DWORD io_len = 0;
    int do_read = 1;
    st = SEC_I_CONTINUE_NEEDED;
    while (st == SEC_I_CONTINUE_NEEDED || st == SEC_E_INCOMPLETE_MESSAGE || st == SEC_I_INCOMPLETE_CREDENTIALS) {
        if (io_len == 0 || st == SEC_E_INCOMPLETE_MESSAGE) {
            if (do_read) {
                ssize_t r = recv(fd, io + io_len, IO_BUFFER_SIZE - io_len, 0);
                if (r <= 0) { st = SEC_E_INTERNAL_ERROR; break; }
                io_len += (DWORD)r;
            } else {
                do_read = 1;
            }
        }
        in_bufs[0].pvBuffer = io;
        in_bufs[0].cbBuffer = io_len;
        in_bufs[0].BufferType = SECBUFFER_TOKEN;
        in_bufs[1].pvBuffer = NULL;
        in_bufs[1].cbBuffer = 0;
        in_bufs[1].BufferType = SECBUFFER_EMPTY;
        in_desc.cBuffers = 2;
        in_desc.pBuffers = in_bufs;
        in_desc.ulVersion = SECBUFFER_VERSION;
        out_bufs[0].pvBuffer = NULL;
        out_bufs[0].BufferType = SECBUFFER_TOKEN;
        out_bufs[0].cbBuffer = 0;
        out_bufs[1].pvBuffer = NULL;
        out_bufs[1].BufferType = SECBUFFER_ALERT;
        out_bufs[1].cbBuffer = 0;
        out_bufs[2].pvBuffer = NULL;
        out_bufs[2].BufferType = SECBUFFER_EMPTY;
        out_bufs[2].cbBuffer = 0;
        out_desc.cBuffers = g_alertbuf ? 3 : 1;
        out_desc.pBuffers = out_bufs;
        out_desc.ulVersion = SECBUFFER_VERSION;

        st = g_sspi->InitializeSecurityContextA(cred, ctx, NULL, req, 0, 0, &in_desc, 0, NULL,
                                                &out_desc, &attrs, &expiry);
        if (g_alertbuf && FAILED(st)) {
            /* The alert of the failure, sent before closing. */
            printf("ALERT token %u alert %u\n", (unsigned)out_bufs[0].cbBuffer, (unsigned)out_bufs[1].cbBuffer);
            if (out_bufs[1].pvBuffer != NULL) {
                send_all(fd, out_bufs[1].pvBuffer, out_bufs[1].cbBuffer);
                g_sspi->FreeContextBuffer(out_bufs[1].pvBuffer);
            }
        }

        if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED ||
            (FAILED(st) && (attrs & ISC_RET_EXTENDED_ERROR))) {
            if (out_bufs[0].cbBuffer != 0 && out_bufs[0].pvBuffer != NULL) {
                send_all(fd, out_bufs[0].pvBuffer, out_bufs[0].cbBuffer);
                g_sspi->FreeContextBuffer(out_bufs[0].pvBuffer);
                out_bufs[0].pvBuffer = NULL;
            }
        }
        if (st == SEC_E_INCOMPLETE_MESSAGE) {
            if (in_bufs[1].BufferType != SECBUFFER_MISSING || in_bufs[1].cbBuffer == 0) {
                st = SEC_E_INTERNAL_ERROR; /* the sample relies on MISSING being set */
                break;
            }
            continue;
        }
        if (st == SEC_E_OK) {
            if (in_bufs[1].BufferType == SECBUFFER_EXTRA) {
                extra_out->pvBuffer = malloc(in_bufs[1].cbBuffer);
                memmove(extra_out->pvBuffer, io + (io_len - in_bufs[1].cbBuffer), in_bufs[1].cbBuffer);
                extra_out->cbBuffer = in_bufs[1].cbBuffer;
                extra_out->BufferType = SECBUFFER_TOKEN;
            } else {
                extra_out->pvBuffer = NULL;
                extra_out->cbBuffer = 0;
                extra_out->BufferType = SECBUFFER_EMPTY;
            }
            break;
        }
        if (FAILED(st)) break;
        if (in_bufs[1].BufferType == SECBUFFER_EXTRA) {
            memmove(io, io + (io_len - in_bufs[1].cbBuffer), in_bufs[1].cbBuffer);
            io_len = in_bufs[1].cbBuffer;
        } else {
            io_len = 0;
        }
    }
    free(io);
    return st;
}

/* UTF-16 of an ASCII string (WCHAR is 16-bit here, as on Windows). */
static WCHAR *widen(const char *s) {
    size_t n = strlen(s);
    WCHAR *w = malloc((n + 1) * sizeof(WCHAR));
    for (size_t i = 0; i <= n; i++) w[i] = (WCHAR)(unsigned char)s[i];
    return w;
}

/* The SDK sample's VerifyServerCertificate, with a fixed validation time when `at` is set. */
static DWORD verify_server_certificate(PCCERT_CONTEXT server_cert, const char *name, long long at, int memstore) {
    char *usages[] = {szOID_PKIX_KP_SERVER_AUTH, szOID_SERVER_GATED_CRYPTO, szOID_SGC_NETSCAPE};
    CERT_CHAIN_PARA chain_para;
    memset(&chain_para, 0, sizeof chain_para);
    chain_para.cbSize = sizeof chain_para;
    chain_para.RequestedUsage.dwType = USAGE_MATCH_TYPE_OR;
    chain_para.RequestedUsage.Usage.cUsageIdentifier = 3;
    chain_para.RequestedUsage.Usage.rgpszUsageIdentifier = usages;
    FILETIME ft, *when = NULL;
    if (at != 0) {
        unsigned long long ticks = ((unsigned long long)at + 11644473600ULL) * 10000000ULL;
        ft.dwLowDateTime = (DWORD)ticks;
        ft.dwHighDateTime = (DWORD)(ticks >> 32);
        when = &ft;
    }
    HCERTSTORE extra = server_cert->hCertStore;
    if (memstore) {
        /* A memory store with what the server sent, added one by one. */
        extra = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
        if (extra == NULL) return (DWORD)fail("CertOpenStore(MEMORY)", SEC_E_INTERNAL_ERROR);
        PCCERT_CONTEXT c = NULL;
        int added = 0;
        while ((c = CertEnumCertificatesInStore(server_cert->hCertStore, c)) != NULL) {
            if (!CertAddCertificateContextToStore(extra, c, CERT_STORE_ADD_ALWAYS, NULL)) return 2;
            added++;
        }
        /* The same certificate again: CERT_STORE_ADD_NEW refuses it, USE_EXISTING gives it back. */
        PCCERT_CONTEXT again = NULL;
        BOOL dup = CertAddEncodedCertificateToStore(extra, X509_ASN_ENCODING, server_cert->pbCertEncoded,
                                                    server_cert->cbCertEncoded, CERT_STORE_ADD_NEW, NULL);
        BOOL existing = CertAddEncodedCertificateToStore(extra, X509_ASN_ENCODING, server_cert->pbCertEncoded,
                                                         server_cert->cbCertEncoded, CERT_STORE_ADD_USE_EXISTING, &again);
        printf("MEMSTORE added %d new-duplicate %d use-existing %d same %d\n", added, dup, existing,
               again != NULL && again->cbCertEncoded == server_cert->cbCertEncoded &&
                   memcmp(again->pbCertEncoded, server_cert->pbCertEncoded, again->cbCertEncoded) == 0);
        if (again) CertFreeCertificateContext(again);
    }
    PCCERT_CHAIN_CONTEXT chain = NULL;
    if (!CertGetCertificateChain(NULL, server_cert, when, extra, &chain_para, 0, NULL, &chain)) {
        if (memstore) CertCloseStore(extra, 0);
        printf("FAILED CertGetCertificateChain\n");
        return 2;
    }
    if (memstore) CertCloseStore(extra, 0);
    WCHAR *wname = strcmp(name, "-") == 0 ? NULL : widen(name);
    HTTPSPolicyCallbackData https;
    memset(&https, 0, sizeof https);
    https.cbStruct = sizeof https;
    https.dwAuthType = AUTHTYPE_SERVER;
    https.fdwChecks = 0;
    https.pwszServerName = wname;
    CERT_CHAIN_POLICY_PARA policy;
    memset(&policy, 0, sizeof policy);
    policy.cbSize = sizeof policy;
    policy.pvExtraPolicyPara = &https;
    CERT_CHAIN_POLICY_STATUS status;
    memset(&status, 0, sizeof status);
    status.cbSize = sizeof status;
    BOOL ok = CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy, &status);
    free(wname);
    if (!ok) {
        CertFreeCertificateChain(chain);
        printf("FAILED CertVerifyCertificateChainPolicy\n");
        return 2;
    }
    PCERT_SIMPLE_CHAIN simple = chain->rgpChain[0];
    printf("POLICY 0x%08X element %ld trust 0x%X elements %u\n", (unsigned)status.dwError,
           (long)status.lElementIndex, (unsigned)chain->TrustStatus.dwErrorStatus, (unsigned)simple->cElement);
    for (DWORD i = 0; i < simple->cElement; i++) {
        char n[256];
        CertGetNameStringA(simple->rgpElement[i]->pCertContext, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, n, sizeof n);
        printf("ELEMENT %u %s self-signed %d\n", (unsigned)i, n,
               (simple->rgpElement[i]->TrustStatus.dwInfoStatus & CERT_TRUST_IS_SELF_SIGNED) != 0);
    }
    CertFreeCertificateChain(chain);
    return status.dwError;
}

/* CertGetNameString the ways programs call it: size first, then the name. */
static void print_names(PCCERT_CONTEXT c) {
    DWORD need = CertGetNameStringA(c, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, NULL, 0);
    char *simple = malloc(need);
    CertGetNameStringA(c, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, simple, need);
    char dns[256], cn[256], issuer[256], all[512], tiny[4];
    CertGetNameStringA(c, CERT_NAME_DNS_TYPE, 0, NULL, dns, sizeof dns);
    CertGetNameStringA(c, CERT_NAME_ATTR_TYPE, 0, szOID_COMMON_NAME, cn, sizeof cn);
    CertGetNameStringA(c, CERT_NAME_SIMPLE_DISPLAY_TYPE, CERT_NAME_ISSUER_FLAG, NULL, issuer, sizeof issuer);
    DWORD n_all = CertGetNameStringA(c, CERT_NAME_DNS_TYPE, CERT_NAME_SEARCH_ALL_NAMES_FLAG, NULL, all, sizeof all);
    for (DWORD i = 0; i + 1 < n_all; i++) if (all[i] == 0) all[i] = '|';
    DWORD n_tiny = CertGetNameStringA(c, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, tiny, sizeof tiny);
    WCHAR w[256];
    DWORD nw = CertGetNameStringW(c, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, w, 256);
    char narrowed[256];
    for (DWORD i = 0; i < nw; i++) narrowed[i] = (char)w[i];
    printf("NAMES simple=%s(%u) dns=%s cn=%s issuer=%s all=%s tiny=%s(%u) wide=%s(%u)\n", simple, (unsigned)need,
           dns, cn, issuer, all, tiny, (unsigned)n_tiny, narrowed, (unsigned)nw);
    free(simple);
}

static SECURITY_STATUS disconnect(int fd, PCredHandle cred, CtxtHandle *ctx) {
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer b[1];
    SecBufferDesc d;
    b[0].pvBuffer = &type;
    b[0].BufferType = SECBUFFER_TOKEN;
    b[0].cbBuffer = sizeof(type);
    d.cBuffers = 1;
    d.pBuffers = b;
    d.ulVersion = SECBUFFER_VERSION;
    SECURITY_STATUS st = g_sspi->ApplyControlToken(ctx, &d);
    if (FAILED(st)) return st;
    DWORD req = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |
                ISC_REQ_EXTENDED_ERROR | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
    ULONG attrs;
    TimeStamp expiry;
    b[0].pvBuffer = NULL;
    b[0].BufferType = SECBUFFER_TOKEN;
    b[0].cbBuffer = 0;
    st = g_sspi->InitializeSecurityContextA(cred, ctx, NULL, req, 0, 0, NULL, 0, ctx, &d, &attrs, &expiry);
    if (FAILED(st)) return st;
    if (b[0].pvBuffer != NULL && b[0].cbBuffer != 0) {
        send_all(fd, b[0].pvBuffer, b[0].cbBuffer);
        g_sspi->FreeContextBuffer(b[0].pvBuffer);
    }
    return SEC_E_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: client PORT TARGET [tls12|tls13|default] [v4|v5] [manual] [store SUBJECT]\n");
        return 64;
    }
    const char *proto = argc > 3 ? argv[3] : "default";
    const char *version = argc > 4 ? argv[4] : "v4";
    int manual = 0;
    const char *subject = NULL;
    const char *alpn = NULL;
    const char *verify = NULL;
    long long at = 0;
    int memstore = 0, decrypts = 0;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "manual") == 0) manual = 1;
        if (strcmp(argv[i], "memstore") == 0) memstore = 1;
        if (strcmp(argv[i], "decrypts") == 0) decrypts = 1;
        if (strcmp(argv[i], "alertbuf") == 0) g_alertbuf = 1;
        if (strcmp(argv[i], "verify") == 0 && i + 1 < argc) verify = argv[++i];
        if (strcmp(argv[i], "at") == 0 && i + 1 < argc) at = atoll(argv[++i]);
        if (strcmp(argv[i], "alpn") == 0 && i + 1 < argc) alpn = argv[++i];
        if (strcmp(argv[i], "store") == 0 && i + 1 < argc) subject = argv[++i];
    }

    g_sspi = InitSecurityInterfaceA();
    if (g_sspi == NULL) return fail("InitSecurityInterfaceA", SEC_E_INTERNAL_ERROR);

    DWORD protocols = 0;
    if (strcmp(proto, "tls12") == 0) protocols = SP_PROT_TLS1_2_CLIENT;
    if (strcmp(proto, "tls13") == 0) protocols = SP_PROT_TLS1_3_CLIENT;
    DWORD flags = SCH_CRED_NO_DEFAULT_CREDS | SCH_USE_STRONG_CRYPTO |
                  (manual ? SCH_CRED_MANUAL_CRED_VALIDATION : SCH_CRED_AUTO_CRED_VALIDATION);

    HCERTSTORE my = NULL;
    PCCERT_CONTEXT client_cert = NULL;
    if (subject != NULL) {
        my = CertOpenSystemStoreA(0, "MY");
        if (my == NULL) return fail("CertOpenSystemStoreA", SEC_E_NO_CREDENTIALS);
        client_cert = CertFindCertificateInStore(my, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_A, subject, NULL);
        if (client_cert == NULL) return fail("CertFindCertificateInStore", SEC_E_NO_CREDENTIALS);
    }

    SCHANNEL_CRED v4;
    SCH_CREDENTIALS v5;
    TLS_PARAMETERS tls;
    void *auth;
    memset(&v4, 0, sizeof v4);
    memset(&v5, 0, sizeof v5);
    memset(&tls, 0, sizeof tls);
    if (strcmp(version, "v5") == 0) {
        v5.dwVersion = SCH_CREDENTIALS_VERSION;
        v5.dwFlags = flags;
        if (protocols != 0) {
            /* v5 names what is disabled: everything but the one asked for. */
            tls.grbitDisabledProtocols = (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT) & ~protocols;
            v5.cTlsParameters = 1;
            v5.pTlsParameters = &tls;
        }
        if (client_cert) { v5.cCreds = 1; v5.paCred = &client_cert; }
        auth = &v5;
    } else {
        v4.dwVersion = SCHANNEL_CRED_VERSION;
        v4.grbitEnabledProtocols = protocols;
        v4.dwFlags = flags;
        if (client_cert) { v4.cCreds = 1; v4.paCred = &client_cert; }
        auth = &v4;
    }

    CredHandle cred;
    TimeStamp expiry;
    SECURITY_STATUS st = g_sspi->AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, auth,
                                                           NULL, NULL, &cred, &expiry);
    if (client_cert) CertFreeCertificateContext(client_cert);
    if (my) CertCloseStore(my, 0);
    if (st != SEC_E_OK) return fail("AcquireCredentialsHandleA", st);
    SecPkgCred_SupportedProtocols cred_protocols;
    st = g_sspi->QueryCredentialsAttributesA(&cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &cred_protocols);
    if (st != SEC_E_OK) return fail("QueryCredentialsAttributesA(SUPPORTED_PROTOCOLS)", st);
    SecPkgCred_SupportedAlgs cred_algs;
    st = g_sspi->QueryCredentialsAttributesA(&cred, SECPKG_ATTR_SUPPORTED_ALGS, &cred_algs);
    if (st != SEC_E_OK) return fail("QueryCredentialsAttributesA(SUPPORTED_ALGS)", st);
    printf("CREDS protocols 0x%X algs", (unsigned)cred_protocols.grbitProtocol);
    for (DWORD i = 0; i < cred_algs.cSupportedAlgs; i++) printf(" 0x%X", cred_algs.palgSupportedAlgs[i]);
    printf("\n");
    g_sspi->FreeContextBuffer(cred_algs.palgSupportedAlgs);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return fail("connect", SEC_E_INTERNAL_ERROR);

    CtxtHandle ctx = {0, 0};
    SecBuffer extra = {0, SECBUFFER_EMPTY, NULL};
    st = handshake(fd, &cred, argv[2], &ctx, &extra, alpn);
    if (st != SEC_E_OK) {
        int rc = fail("InitializeSecurityContextA", st);
        g_sspi->DeleteSecurityContext(&ctx);
        g_sspi->FreeCredentialsHandle(&cred);
        close(fd);
        return rc;
    }

    SecPkgContext_StreamSizes sizes;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(STREAM_SIZES)", st);
    SecPkgContext_ConnectionInfo info;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(CONNECTION_INFO)", st);
    PCCERT_CONTEXT remote = NULL;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(REMOTE_CERT_CONTEXT)", st);
    fprintf(stderr, "protocol 0x%X cipher 0x%X strength %u exchange 0x%X %u header %u trailer %u max %u "
                    "remote cert %u bytes, subject %u bytes, version %u\n",
            info.dwProtocol, info.aiCipher, info.dwCipherStrength, info.aiExch, info.dwExchStrength,
            sizes.cbHeader, sizes.cbTrailer, sizes.cbMaximumMessage, remote->cbCertEncoded,
            remote->pCertInfo->Subject.cbData, remote->pCertInfo->dwVersion);
    printf("PROTOCOL 0x%X\n", info.dwProtocol);
    print_names(remote);
    SecPkgContext_CipherInfo ci;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_CIPHER_INFO, &ci);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(CIPHER_INFO)", st);
    char suite_name[SZ_ALG_MAX_SIZE], cipher[SZ_ALG_MAX_SIZE], hash[SZ_ALG_MAX_SIZE], exch[SZ_ALG_MAX_SIZE],
        cert_alg[SZ_ALG_MAX_SIZE];
    for (int i = 0; i < SZ_ALG_MAX_SIZE; i++) {
        suite_name[i] = (char)ci.szCipherSuite[i];
        cipher[i] = (char)ci.szCipher[i];
        hash[i] = (char)ci.szHash[i];
        exch[i] = (char)ci.szExchange[i];
        cert_alg[i] = (char)ci.szCertificate[i];
    }
    printf("CIPHERINFO v%u protocol 0x%X suite 0x%04X %s cipher %s %u/%u hash %s %u exchange %s %u-%u cert %s\n",
           (unsigned)ci.dwVersion, (unsigned)ci.dwProtocol, (unsigned)ci.dwCipherSuite, suite_name, cipher,
           (unsigned)ci.dwCipherLen, (unsigned)ci.dwCipherBlockLen, hash, (unsigned)ci.dwHashLen, exch,
           (unsigned)ci.dwMinExchangeLen, (unsigned)ci.dwMaxExchangeLen, cert_alg);
    SecPkgContext_SessionInfo si;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_SESSION_INFO, &si);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(SESSION_INFO)", st);
    printf("SESSION flags %u id %u\n", (unsigned)si.dwFlags, (unsigned)si.cbSessionId);
    PCCERT_CONTEXT local = NULL;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &local);
    if (st == SEC_E_OK) {
        char n[256];
        CertGetNameStringA(local, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, n, sizeof n);
        printf("LOCALCERT %s\n", n);
        CertFreeCertificateContext(local);
    } else {
        printf("LOCALCERT none 0x%08X\n", (unsigned)st);
    }
    SecPkgContext_IssuerListInfoEx issuers;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_ISSUER_LIST_EX, &issuers);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(ISSUER_LIST_EX)", st);
    printf("ISSUERS %u", (unsigned)issuers.cIssuers);
    for (DWORD i = 0; i < issuers.cIssuers; i++) {
        printf(" ");
        for (DWORD j = 0; j < issuers.aIssuers[i].cbData; j++) printf("%02x", issuers.aIssuers[i].pbData[j]);
    }
    printf("\n");
    if (issuers.aIssuers) g_sspi->FreeContextBuffer(issuers.aIssuers);
    if (verify != NULL) {
        DWORD policy = verify_server_certificate(remote, verify, at, memstore);
        if (policy != 0) {
            CertFreeCertificateContext(remote);
            g_sspi->DeleteSecurityContext(&ctx);
            g_sspi->FreeCredentialsHandle(&cred);
            close(fd);
            free(extra.pvBuffer);
            fflush(stdout);
            return 3;
        }
    }
    CertFreeCertificateContext(remote);
    SecPkgContext_ApplicationProtocol ap;
    st = g_sspi->QueryContextAttributesA(&ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &ap);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA(APPLICATION_PROTOCOL)", st);
    if (ap.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success)
        printf("ALPN %.*s\n", ap.ProtocolIdSize, ap.ProtocolId);
    else
        printf("ALPN none\n");

    /* Send the request: header, data, trailer in one block, as the sample. */
    char *msg = malloc(sizes.cbHeader + sizes.cbMaximumMessage + sizes.cbTrailer);
    const char *req = "GET / HTTP/1.0\r\n\r\n";
    size_t req_len = strlen(req);
    memcpy(msg + sizes.cbHeader, req, req_len);
    SecBuffer mb[4];
    SecBufferDesc md;
    mb[0].pvBuffer = msg; mb[0].cbBuffer = sizes.cbHeader; mb[0].BufferType = SECBUFFER_STREAM_HEADER;
    mb[1].pvBuffer = msg + sizes.cbHeader; mb[1].cbBuffer = (ULONG)req_len; mb[1].BufferType = SECBUFFER_DATA;
    mb[2].pvBuffer = msg + sizes.cbHeader + req_len; mb[2].cbBuffer = sizes.cbTrailer; mb[2].BufferType = SECBUFFER_STREAM_TRAILER;
    mb[3].pvBuffer = NULL; mb[3].cbBuffer = 0; mb[3].BufferType = SECBUFFER_EMPTY;
    md.ulVersion = SECBUFFER_VERSION; md.cBuffers = 4; md.pBuffers = mb;
    st = g_sspi->EncryptMessage(&ctx, 0, &md, 0);
    if (st != SEC_E_OK) return fail("EncryptMessage", st);
    if (send_all(fd, msg, mb[0].cbBuffer + mb[1].cbBuffer + mb[2].cbBuffer) != 0) return fail("send", SEC_E_INTERNAL_ERROR);
    free(msg);

    /* The sample's receive loop. */
    char *io = malloc(IO_BUFFER_SIZE);
    DWORD io_len = 0;
    if (extra.cbBuffer) {
        memcpy(io, extra.pvBuffer, extra.cbBuffer);
        io_len = extra.cbBuffer;
        free(extra.pvBuffer);
    }
    size_t received = 0;
    st = SEC_E_OK;
    int closed_by_peer = 0;
    int renegotiations = 0;
    for (;;) {
        if (io_len == 0 || st == SEC_E_INCOMPLETE_MESSAGE) {
            ssize_t r = recv(fd, io + io_len, IO_BUFFER_SIZE - io_len, 0);
            if (r < 0) { st = SEC_E_INTERNAL_ERROR; break; }
            if (r == 0) { if (io_len) st = SEC_E_INTERNAL_ERROR; else st = SEC_E_OK; break; }
            io_len += (DWORD)r;
        }
        mb[0].pvBuffer = io; mb[0].cbBuffer = io_len; mb[0].BufferType = SECBUFFER_DATA;
        mb[1].BufferType = SECBUFFER_EMPTY; mb[1].cbBuffer = 0; mb[1].pvBuffer = NULL;
        mb[2].BufferType = SECBUFFER_EMPTY; mb[2].cbBuffer = 0; mb[2].pvBuffer = NULL;
        mb[3].BufferType = SECBUFFER_EMPTY; mb[3].cbBuffer = 0; mb[3].pvBuffer = NULL;
        md.ulVersion = SECBUFFER_VERSION; md.cBuffers = 4; md.pBuffers = mb;
        st = g_sspi->DecryptMessage(&ctx, &md, 0, NULL);
        if (decrypts && st != SEC_E_INCOMPLETE_MESSAGE) {
            DWORD n = 0;
            for (int i = 1; i < 4; i++) if (mb[i].BufferType == SECBUFFER_DATA) n = mb[i].cbBuffer;
            fprintf(stderr, "DECRYPT 0x%08X data %u\n", (unsigned)st, (unsigned)n);
        }
        if (st == SEC_E_INCOMPLETE_MESSAGE) continue;
        if (st == SEC_I_CONTEXT_EXPIRED) { closed_by_peer = 1; break; }
        if (st != SEC_E_OK && st != SEC_I_RENEGOTIATE) break;
        SecBuffer *data = NULL, *x = NULL;
        for (int i = 1; i < 4; i++) {
            if (data == NULL && mb[i].BufferType == SECBUFFER_DATA) data = &mb[i];
            if (x == NULL && mb[i].BufferType == SECBUFFER_EXTRA) x = &mb[i];
        }
        if (data && data->cbBuffer) {
            fwrite(data->pvBuffer, 1, data->cbBuffer, stdout);
            received += data->cbBuffer;
        }
        if (x) {
            memmove(io, x->pvBuffer, x->cbBuffer);
            io_len = x->cbBuffer;
        } else {
            io_len = 0;
        }
        if (st == SEC_I_RENEGOTIATE) {
            SecBuffer ignored;
            renegotiations++;
            /* The sample hands the extra data to its handshake loop; a post-handshake
             * answer comes back as the token of one InitializeSecurityContext call. */
            SecBuffer ib[2], ob[1];
            SecBufferDesc id, od;
            ULONG attrs;
            ib[0].pvBuffer = io; ib[0].cbBuffer = io_len; ib[0].BufferType = SECBUFFER_TOKEN;
            ib[1].pvBuffer = NULL; ib[1].cbBuffer = 0; ib[1].BufferType = SECBUFFER_EMPTY;
            id.ulVersion = SECBUFFER_VERSION; id.cBuffers = 2; id.pBuffers = ib;
            ob[0].pvBuffer = NULL; ob[0].cbBuffer = 0; ob[0].BufferType = SECBUFFER_TOKEN;
            od.ulVersion = SECBUFFER_VERSION; od.cBuffers = 1; od.pBuffers = ob;
            st = g_sspi->InitializeSecurityContextA(&cred, &ctx, NULL, ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM, 0, 0,
                                                    &id, 0, NULL, &od, &attrs, &expiry);
            if (st != SEC_E_OK) break;
            if (ob[0].pvBuffer) {
                send_all(fd, ob[0].pvBuffer, ob[0].cbBuffer);
                g_sspi->FreeContextBuffer(ob[0].pvBuffer);
            }
            (void)ignored;
        }
    }
    free(io);
    fflush(stdout);
    if (FAILED(st)) return fail("DecryptMessage", st);
    fprintf(stderr, "received %zu bytes, closed by peer: %d, renegotiate %d\n", received, closed_by_peer,
            renegotiations);

    st = disconnect(fd, &cred, &ctx);
    close(fd);
    if (FAILED(st)) return fail("disconnect", st);
    st = g_sspi->DeleteSecurityContext(&ctx);
    if (st != SEC_E_OK) return fail("DeleteSecurityContext", st);
    st = g_sspi->FreeCredentialsHandle(&cred);
    if (st != SEC_E_OK) return fail("FreeCredentialsHandle", st);
    printf("\nDONE %zu\n", received);
    return 0;
}

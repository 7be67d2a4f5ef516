/*
 * Malformed use from C: null, forged, freed and mixed-up handles; missing, too few and
 * wrong buffers; garbage tokens; and every handshake flight and one record split at
 * every offset between an in-process client and server (the handshake must then still
 * complete, and each short delivery must be SEC_E_INCOMPLETE_MESSAGE or
 * SEC_I_CONTINUE_NEEDED). Every call must return an error status, never crash.
 *
 * usage: misuse SUBJECT [quick]   (the server certificate is found in MY by SUBJECT)
 * Prints "OK <checks>" and exits 0; a failed check prints its line and exits 1.
 */
#include "securechannel_sspi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0;

#define EXPECT(call, want)                                                                     \
    do {                                                                                       \
        SECURITY_STATUS got_ = (call);                                                         \
        checks++;                                                                              \
        if (got_ != (SECURITY_STATUS)(want)) {                                                 \
            printf("CHECK FAILED line %d: %s = 0x%08X, want 0x%08X\n", __LINE__, #call,       \
                   (unsigned)got_, (unsigned)(want));                                          \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define EXPECT_FAILED(call)                                                                    \
    do {                                                                                       \
        SECURITY_STATUS got_ = (call);                                                         \
        checks++;                                                                              \
        if (!FAILED(got_)) {                                                                   \
            printf("CHECK FAILED line %d: %s = 0x%08X, want an error\n", __LINE__, #call,     \
                   (unsigned)got_);                                                            \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM)
#define AREQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)
#define N 0x20000

static CredHandle client_cred, server_cred;

/* One side of the in-memory connection. */
typedef struct {
    int server;
    int started;
    int done;
    CtxtHandle ctx;
    char in[N];
    DWORD in_len;
} side_t;

/* Bytes on their way to a side. */
typedef struct {
    char q[N];
    DWORD len;
    int flights; /* how many outputs were queued so far */
} wire_t;

static void queue(wire_t *w, const void *p, DWORD n) {
    if (n == 0) return;
    memcpy(w->q + w->len, p, n);
    w->len += n;
    w->flights++;
}

/* Move up to `allowed` bytes of `w` to `s` and run one handshake call; its output goes
 * to `back`. Returns the status. */
static SECURITY_STATUS step(side_t *s, wire_t *w, DWORD allowed, wire_t *back) {
    DWORD n = w->len < allowed ? w->len : allowed;
    memcpy(s->in + s->in_len, w->q, n);
    s->in_len += n;
    memmove(w->q, w->q + n, w->len - n);
    w->len -= n;
    SecBuffer in[2], out[1];
    SecBufferDesc in_d = {SECBUFFER_VERSION, 2, in}, out_d = {SECBUFFER_VERSION, 1, out};
    in[0].pvBuffer = s->in; in[0].cbBuffer = s->in_len; in[0].BufferType = SECBUFFER_TOKEN;
    in[1].pvBuffer = NULL; in[1].cbBuffer = 0; in[1].BufferType = SECBUFFER_EMPTY;
    out[0].pvBuffer = NULL; out[0].cbBuffer = 0; out[0].BufferType = SECBUFFER_TOKEN;
    ULONG attrs;
    TimeStamp ts;
    SECURITY_STATUS st;
    if (s->server) {
        st = AcceptSecurityContext(&server_cred, s->started ? &s->ctx : NULL, &in_d, AREQ, 0,
                                   s->started ? NULL : &s->ctx, &out_d, &attrs, &ts);
        if (st != SEC_E_INCOMPLETE_MESSAGE) s->started = 1;
    } else {
        st = InitializeSecurityContextA(&client_cred, s->started ? &s->ctx : NULL, "localhost", REQ, 0, 0,
                                        s->started ? &in_d : NULL, 0, s->started ? NULL : &s->ctx, &out_d,
                                        &attrs, &ts);
        s->started = 1;
    }
    if (out[0].pvBuffer) {
        queue(back, out[0].pvBuffer, out[0].cbBuffer);
        FreeContextBuffer(out[0].pvBuffer);
    }
    if (st == SEC_E_INCOMPLETE_MESSAGE) {
        if (in[1].BufferType != SECBUFFER_MISSING || in[1].cbBuffer == 0) {
            printf("CHECK FAILED: SEC_E_INCOMPLETE_MESSAGE without SECBUFFER_MISSING\n");
            exit(1);
        }
        return st;
    }
    if (in[1].BufferType == SECBUFFER_EXTRA) {
        memmove(s->in, s->in + (s->in_len - in[1].cbBuffer), in[1].cbBuffer);
        s->in_len = in[1].cbBuffer;
    } else {
        s->in_len = 0;
    }
    if (st == SEC_E_OK) s->done = 1;
    return st;
}

static side_t client, server;
static wire_t to_server, to_client;

/* A whole handshake in memory; the `split_flight`-th delivery (0: the client's first
 * flight, 1: the server's, 2: the client's second) comes in two parts, `k` bytes first.
 * Returns the size of that flight as it went. */
static DWORD handshake_split(int split_flight, DWORD k) {
    memset(&client, 0, sizeof client);
    memset(&server, 0, sizeof server);
    memset(&to_server, 0, sizeof to_server);
    memset(&to_client, 0, sizeof to_client);
    server.server = 1;
    DWORD size = 0;
    int delivery = 0;
    EXPECT(step(&client, &to_client, 0, &to_server), SEC_I_CONTINUE_NEEDED);
    for (int round = 0; round < 40 && !(client.done && server.done && to_server.len == 0 && to_client.len == 0); round++) {
        wire_t *w = (round % 2 == 0) ? &to_server : &to_client;
        side_t *s = (round % 2 == 0) ? &server : &client;
        wire_t *back = (round % 2 == 0) ? &to_client : &to_server;
        if (w->len == 0) continue;
        DWORD allowed = w->len;
        if (delivery == split_flight) {
            size = w->len;
            if (k < w->len) allowed = k;
        }
        delivery++;
        SECURITY_STATUS st = step(s, w, allowed, back);
        if (FAILED(st) && st != SEC_E_INCOMPLETE_MESSAGE) {
            printf("CHECK FAILED: split flight %d at %u: 0x%08X\n", split_flight, (unsigned)k, (unsigned)st);
            exit(1);
        }
        /* What is left of a split flight is delivered at once, to the same side. */
        if (w->len > 0) {
            st = step(s, w, w->len, back);
            if (FAILED(st)) {
                printf("CHECK FAILED: rest of flight %d at %u: 0x%08X\n", split_flight, (unsigned)k, (unsigned)st);
                exit(1);
            }
        }
        /* Bytes a side kept (SECBUFFER_EXTRA) are handed back once more without new
         * ones, as the sample's loop does before it reads again. */
        for (int again = 0; again < 3 && s->in_len > 0 && !s->done; again++) {
            wire_t none;
            none.len = 0;
            DWORD before = s->in_len;
            st = step(s, &none, 0, back);
            if (FAILED(st) || s->in_len == before) break;
        }
    }
    checks++;
    if (!client.done || !server.done) {
        printf("CHECK FAILED: flight %d split at %u did not complete (client %d server %d)\n", split_flight,
               (unsigned)k, client.done, server.done);
        exit(1);
    }
    return size;
}

static void delete_pair(void) {
    EXPECT(DeleteSecurityContext(&client.ctx), SEC_E_OK);
    EXPECT(DeleteSecurityContext(&server.ctx), SEC_E_OK);
}

int main(int argc, char **argv) {
    if (argc < 2) return 64;
    int quick = argc > 2 && strcmp(argv[2], "quick") == 0;
    TimeStamp ts;
    ULONG attrs;
    CredHandle forged = {12345, 67890};
    CtxtHandle forged_ctx = {12345, 67890};
    SecBuffer b[4];
    SecBufferDesc d = {SECBUFFER_VERSION, 4, b};

    /* Package. */
    EXPECT(AcquireCredentialsHandleA(NULL, "Kerberos", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &client_cred, &ts),
           SEC_E_UNSUPPORTED_FUNCTION); /* Windows: SEC_E_SECPKG_NOT_FOUND, not in the spec */
    EXPECT(AcquireCredentialsHandleA(NULL, NULL, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &client_cred, &ts),
           SEC_E_UNSUPPORTED_FUNCTION); /* Windows: SEC_E_SECPKG_NOT_FOUND, not in the spec */
    EXPECT_FAILED(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, NULL, &ts));
    EXPECT_FAILED(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, 0, NULL, NULL, NULL, NULL, &client_cred, &ts));
    SCHANNEL_CRED bad;
    memset(&bad, 0, sizeof bad);
    bad.dwVersion = 3;
    EXPECT(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &bad, NULL, NULL, &client_cred, &ts),
           SEC_E_UNKNOWN_CREDENTIALS);
    bad.dwVersion = SCHANNEL_CRED_VERSION;
    bad.cCreds = 1; /* paCred NULL */
    EXPECT_FAILED(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &bad, NULL, NULL, &client_cred, &ts));
    bad.cCreds = 0;
    bad.dwFlags = SCH_CRED_NO_SERVERNAME_CHECK; /* not available: refused, never ignored */
    EXPECT(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &bad, NULL, NULL, &client_cred, &ts),
           SEC_E_UNSUPPORTED_FUNCTION);
    bad.dwFlags = SCH_CRED_REVOCATION_CHECK_CHAIN; /* without IGNORE_NO_REVOCATION_CHECK */
    EXPECT(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &bad, NULL, NULL, &client_cred, &ts),
           SEC_E_UNSUPPORTED_FUNCTION);
    bad.dwFlags = 0;
    PCCERT_CONTEXT not_ours = (PCCERT_CONTEXT)&bad;
    bad.cCreds = 1;
    bad.paCred = &not_ours; /* a pointer this library never handed out */
    EXPECT(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &bad, NULL, NULL, &client_cred, &ts),
           SEC_E_UNKNOWN_CREDENTIALS);
    checks++;
    if (CertFreeCertificateContext(not_ours) != FALSE || CertCloseStore((HCERTSTORE)&bad, 0) != FALSE) {
        printf("CHECK FAILED: crypt32 accepted a foreign pointer\n");
        return 1;
    }

    /* The W calls (UTF-16 names) and the package information. */
    ULONG count = 0;
    PSecPkgInfoW infos = NULL;
    EXPECT(EnumerateSecurityPackagesW(&count, &infos), SEC_E_OK);
    checks++;
    if (count != 2 || infos[1].wRPCID != UNISP_RPC_ID || infos[1].Name[0] != 'S' || infos[1].Name[8] != 0) {
        printf("CHECK FAILED: EnumerateSecurityPackagesW\n");
        return 1;
    }
    EXPECT(FreeContextBuffer(infos), SEC_E_OK);
    PSecPkgInfoA info_a = NULL;
    EXPECT(QuerySecurityPackageInfoA("schannel", &info_a), SEC_E_OK);
    checks++;
    if (strcmp(info_a->Name, "Schannel") != 0 || info_a->cbMaxToken == 0) {
        printf("CHECK FAILED: QuerySecurityPackageInfoA\n");
        return 1;
    }
    EXPECT(FreeContextBuffer(info_a), SEC_E_OK);
    PSecPkgInfoW info_w = NULL;
    EXPECT(QuerySecurityPackageInfoW((SEC_WCHAR *)UNISP_NAME_W, &info_w), SEC_E_OK);
    EXPECT(FreeContextBuffer(info_w), SEC_E_OK);
    EXPECT(QuerySecurityPackageInfoW((SEC_WCHAR *)u"NTLM", &info_w), SEC_E_UNSUPPORTED_FUNCTION);
    checks++;
    if (InitSecurityInterfaceW()->AcquireCredentialsHandleW != AcquireCredentialsHandleW ||
        InitSecurityInterfaceW()->QueryCredentialsAttributesW != QueryCredentialsAttributesW ||
        InitSecurityInterfaceW()->SetContextAttributesW != SetContextAttributesW ||
        InitSecurityInterfaceW()->CompleteAuthToken != NULL) {
        printf("CHECK FAILED: InitSecurityInterfaceW's table\n");
        return 1;
    }
    CredHandle wcred;
    CtxtHandle wctx;
    EXPECT(AcquireCredentialsHandleW(NULL, (SEC_WCHAR *)SCHANNEL_NAME_W, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                     &wcred, &ts),
           SEC_E_OK);
    SecBuffer wb[1] = {{0, SECBUFFER_TOKEN, NULL}};
    SecBufferDesc wd = {SECBUFFER_VERSION, 1, wb};
    EXPECT(InitializeSecurityContextW(&wcred, NULL, (SEC_WCHAR *)u"localhost", REQ, 0, 0, NULL, 0, &wctx, &wd, &attrs,
                                      &ts),
           SEC_I_CONTINUE_NEEDED);
    checks++;
    if (wb[0].cbBuffer < 5 || ((unsigned char *)wb[0].pvBuffer)[0] != 0x16) {
        printf("CHECK FAILED: InitializeSecurityContextW gave no ClientHello\n");
        return 1;
    }
    EXPECT(FreeContextBuffer(wb[0].pvBuffer), SEC_E_OK);
    EXPECT(DeleteSecurityContext(&wctx), SEC_E_OK);
    EXPECT(FreeCredentialsHandle(&wcred), SEC_E_OK);
    HCERTSTORE wmy = CertOpenSystemStoreW(0, (LPCWSTR)u"My");
    checks++;
    if (wmy == NULL || CertCloseStore(wmy, 0) != TRUE) {
        printf("CHECK FAILED: CertOpenSystemStoreW\n");
        return 1;
    }

    /* Forged, null and freed handles. */
    EXPECT(FreeCredentialsHandle(NULL), SEC_E_INVALID_HANDLE);
    EXPECT(FreeCredentialsHandle(&forged), SEC_E_INVALID_HANDLE);
    EXPECT(DeleteSecurityContext(NULL), SEC_E_INVALID_HANDLE);
    EXPECT(DeleteSecurityContext(&forged_ctx), SEC_E_INVALID_HANDLE);
    EXPECT(InitializeSecurityContextA(NULL, NULL, "localhost", REQ, 0, 0, NULL, 0, &forged_ctx, NULL, &attrs, &ts),
           SEC_E_INVALID_HANDLE);
    EXPECT(InitializeSecurityContextA(&forged, NULL, "localhost", REQ, 0, 0, NULL, 0, &forged_ctx, NULL, &attrs, &ts),
           SEC_E_INVALID_HANDLE);
    EXPECT(AcceptSecurityContext(&forged, NULL, NULL, AREQ, 0, &forged_ctx, NULL, &attrs, &ts), SEC_E_INVALID_HANDLE);
    EXPECT(EncryptMessage(NULL, 0, &d, 0), SEC_E_INVALID_HANDLE);
    EXPECT(EncryptMessage(&forged_ctx, 0, &d, 0), SEC_E_INVALID_HANDLE);
    EXPECT(DecryptMessage(&forged_ctx, &d, 0, NULL), SEC_E_INVALID_HANDLE);
    EXPECT(ApplyControlToken(&forged_ctx, &d), SEC_E_INVALID_HANDLE);
    SecPkgContext_StreamSizes sizes;
    EXPECT(QueryContextAttributesA(&forged_ctx, SECPKG_ATTR_STREAM_SIZES, &sizes), SEC_E_INVALID_HANDLE);
    EXPECT(QueryContextAttributesW(NULL, SECPKG_ATTR_STREAM_SIZES, &sizes), SEC_E_INVALID_HANDLE);
    EXPECT(FreeContextBuffer(&sizes), SEC_E_INVALID_HANDLE);
    SecPkgCred_SupportedProtocols sp;
    EXPECT(QueryCredentialsAttributesA(NULL, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp), SEC_E_INVALID_HANDLE);
    EXPECT(QueryCredentialsAttributesW(&forged, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp), SEC_E_INVALID_HANDLE);
    EXPECT(QueryCredentialsAttributesA((PCredHandle)&forged_ctx, SECPKG_ATTR_SUPPORTED_ALGS, &sp), SEC_E_INVALID_HANDLE);
    EXPECT(SetContextAttributesA(&forged_ctx, SECPKG_ATTR_KEYING_MATERIAL_INFO, &sp, sizeof sp), SEC_E_INVALID_HANDLE);
    EXPECT(SetContextAttributesW(NULL, SECPKG_ATTR_KEYING_MATERIAL_INFO, &sp, sizeof sp), SEC_E_INVALID_HANDLE);

    /* crypt32 with pointers it never handed out, and stores misused. */
    CERT_CONTEXT fake_cert;
    memset(&fake_cert, 0, sizeof fake_cert);
    CERT_CHAIN_CONTEXT fake_chain;
    memset(&fake_chain, 0, sizeof fake_chain);
    PCCERT_CHAIN_CONTEXT chain_out = NULL;
    CERT_CHAIN_POLICY_STATUS pstatus = {sizeof pstatus, 0, 0, 0, NULL};
    char name_buf[16];
    EXPECT(CertGetCertificateChain(NULL, &fake_cert, NULL, NULL, NULL, 0, NULL, &chain_out), FALSE);
    EXPECT(CertGetCertificateChain(NULL, NULL, NULL, NULL, NULL, 0, NULL, &chain_out), FALSE);
    EXPECT(CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, &fake_chain, NULL, &pstatus), FALSE);
    EXPECT(CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, NULL, NULL, &pstatus), FALSE);
    CertFreeCertificateChain(&fake_chain);
    CertFreeCertificateChain(NULL);
    EXPECT(CertGetNameStringA(&fake_cert, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, name_buf, sizeof name_buf), 0);
    EXPECT(CertGetNameStringW(NULL, CERT_NAME_DNS_TYPE, 0, NULL, NULL, 0), 0);
    HCERTSTORE mem = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    checks++;
    if (mem == NULL) { printf("CHECK FAILED: CertOpenStore(MEMORY)\n"); return 1; }
    EXPECT(CertAddEncodedCertificateToStore(mem, X509_ASN_ENCODING, (const BYTE *)"junk", 4, CERT_STORE_ADD_ALWAYS, NULL), FALSE);
    EXPECT(CertAddEncodedCertificateToStore(mem, X509_ASN_ENCODING, NULL, 100, CERT_STORE_ADD_ALWAYS, NULL), FALSE);
    EXPECT(CertAddCertificateContextToStore(mem, &fake_cert, CERT_STORE_ADD_ALWAYS, NULL), FALSE);
    EXPECT(CertAddCertificateContextToStore((HCERTSTORE)&fake_cert, NULL, CERT_STORE_ADD_ALWAYS, NULL), FALSE);
    EXPECT(CertCloseStore(mem, 0), TRUE);
    EXPECT(CertCloseStore(mem, 0), FALSE); /* twice */

    /* Real credentials. */
    SCHANNEL_CRED sc;
    memset(&sc, 0, sizeof sc);
    sc.dwVersion = SCHANNEL_CRED_VERSION;
    EXPECT(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sc, NULL, NULL, &client_cred, &ts), SEC_E_OK);
    HCERTSTORE my = CertOpenSystemStoreA(0, "MY");
    PCCERT_CONTEXT cert = CertFindCertificateInStore(my, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_A, argv[1], NULL);
    checks++;
    if (cert == NULL) { printf("CHECK FAILED: no certificate %s in MY\n", argv[1]); return 1; }
    sc.cCreds = 1;
    sc.paCred = &cert;
    EXPECT(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL, NULL, &server_cred, &ts), SEC_E_OK);
    CertFreeCertificateContext(cert);
    CertCloseStore(my, 0);

    /* A freed credential; credentials of the wrong direction; a context as a credential. */
    CredHandle freed;
    memset(&sc, 0, sizeof sc);
    sc.dwVersion = SCHANNEL_CRED_VERSION;
    EXPECT(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sc, NULL, NULL, &freed, &ts), SEC_E_OK);
    EXPECT(FreeCredentialsHandle(&freed), SEC_E_OK);
    EXPECT(FreeCredentialsHandle(&freed), SEC_E_INVALID_HANDLE);
    CtxtHandle c1;
    EXPECT(InitializeSecurityContextA(&freed, NULL, "localhost", REQ, 0, 0, NULL, 0, &c1, NULL, &attrs, &ts), SEC_E_INVALID_HANDLE);
    EXPECT(InitializeSecurityContextA(&server_cred, NULL, "localhost", REQ, 0, 0, NULL, 0, &c1, NULL, &attrs, &ts),
           SEC_E_UNKNOWN_CREDENTIALS);
    EXPECT(InitializeSecurityContextA(&client_cred, NULL, NULL, REQ, 0, 0, NULL, 0, &c1, NULL, &attrs, &ts),
           SEC_E_TARGET_UNKNOWN);
    EXPECT(InitializeSecurityContextA(&client_cred, NULL, "localhost", REQ | ISC_REQ_DATAGRAM, 0, 0, NULL, 0, &c1, NULL, &attrs, &ts),
           SEC_E_UNSUPPORTED_FUNCTION);

    /* A context before its handshake is done; wrong and missing buffers. */
    SecBuffer ob[1] = {{0, SECBUFFER_TOKEN, NULL}};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, ob};
    EXPECT(InitializeSecurityContextA(&client_cred, NULL, "localhost", REQ, 0, 0, NULL, 0, &c1, &od, &attrs, &ts),
           SEC_I_CONTINUE_NEEDED);
    FreeContextBuffer(ob[0].pvBuffer);
    EXPECT(FreeContextBuffer(ob[0].pvBuffer), SEC_E_INVALID_HANDLE); /* twice */
    EXPECT(FreeCredentialsHandle((PCredHandle)&c1), SEC_E_INVALID_HANDLE); /* a context is not a credential */
    EXPECT_FAILED(QueryContextAttributesA(&c1, SECPKG_ATTR_STREAM_SIZES, &sizes)); /* not established */
    EXPECT(QueryContextAttributesA(&c1, 0x7777, &sizes), SEC_E_UNSUPPORTED_FUNCTION);
    EXPECT(QueryContextAttributesA(&c1, SECPKG_ATTR_KEYING_MATERIAL, &sizes), SEC_E_UNSUPPORTED_FUNCTION);
    EXPECT_FAILED(QueryContextAttributesA(&c1, SECPKG_ATTR_CIPHER_INFO, &sizes)); /* not established */
    EXPECT(QueryContextAttributesA(&c1, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &sizes), SEC_E_NO_CREDENTIALS);
    /* Windows wants SECPKG_ATTR_KEYING_MATERIAL_INFO before the handshake completes; it is
     * refused here at any time (no exporter in rustls' unbuffered API). */
    SecPkgContext_KeyingMaterialInfo kmi = {8, (char *)"EXPORTER", 0, NULL, 32};
    EXPECT(SetContextAttributesA(&c1, SECPKG_ATTR_KEYING_MATERIAL_INFO, &kmi, sizeof kmi), SEC_E_UNSUPPORTED_FUNCTION);
    SecPkgCred_SupportedProtocols cp;
    EXPECT(QueryCredentialsAttributesA(&client_cred, 0x7777, &cp), SEC_E_UNSUPPORTED_FUNCTION);
    EXPECT(QueryCredentialsAttributesA(&client_cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, NULL), SEC_E_INVALID_PARAMETER);
    EXPECT(QueryCredentialsAttributesA(&client_cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &cp), SEC_E_OK);
    checks++;
    if (cp.grbitProtocol != (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT)) {
        printf("CHECK FAILED: SUPPORTED_PROTOCOLS 0x%X\n", (unsigned)cp.grbitProtocol);
        return 1;
    }
    EXPECT_FAILED(QueryContextAttributesA(&c1, SECPKG_ATTR_STREAM_SIZES, NULL));
    char junk[64];
    memset(junk, 0x41, sizeof junk);
    b[0].pvBuffer = junk; b[0].cbBuffer = sizeof junk; b[0].BufferType = SECBUFFER_DATA;
    b[1].pvBuffer = NULL; b[1].cbBuffer = 0; b[1].BufferType = SECBUFFER_EMPTY;
    SecBufferDesc in_d = {SECBUFFER_VERSION, 2, b};
    EXPECT(InitializeSecurityContextA(&client_cred, &c1, NULL, REQ, 0, 0, &in_d, 0, NULL, &od, &attrs, &ts),
           SEC_E_INVALID_TOKEN); /* DATA where the token goes */
    SecBufferDesc no_buffers = {SECBUFFER_VERSION, 4, NULL};
    EXPECT(InitializeSecurityContextA(&client_cred, &c1, NULL, REQ, 0, 0, &no_buffers, 0, NULL, &od, &attrs, &ts),
           SEC_E_INVALID_PARAMETER);
    SecBufferDesc huge = {SECBUFFER_VERSION, 100000, b};
    EXPECT(InitializeSecurityContextA(&client_cred, &c1, NULL, REQ, 0, 0, &huge, 0, NULL, &od, &attrs, &ts),
           SEC_E_INVALID_PARAMETER);
    b[0].BufferType = SECBUFFER_TOKEN; /* not TLS: 'AAAA...' */
    EXPECT_FAILED(InitializeSecurityContextA(&client_cred, &c1, NULL, REQ, 0, 0, &in_d, 0, NULL, &od, &attrs, &ts));
    if (ob[0].pvBuffer) FreeContextBuffer(ob[0].pvBuffer);
    /* The failed context stays failed; it is still deleted once. */
    b[0].cbBuffer = 5;
    EXPECT_FAILED(InitializeSecurityContextA(&client_cred, &c1, NULL, REQ, 0, 0, &in_d, 0, NULL, &od, &attrs, &ts));
    EXPECT(DeleteSecurityContext(&c1), SEC_E_OK);
    EXPECT(DeleteSecurityContext(&c1), SEC_E_INVALID_HANDLE);

    /* A server given garbage. */
    CtxtHandle s1;
    b[0].pvBuffer = junk; b[0].cbBuffer = sizeof junk; b[0].BufferType = SECBUFFER_TOKEN;
    EXPECT_FAILED(AcceptSecurityContext(&server_cred, NULL, &in_d, AREQ, 0, &s1, &od, &attrs, &ts));
    if (ob[0].pvBuffer) FreeContextBuffer(ob[0].pvBuffer);
    DeleteSecurityContext(&s1);

    /* Every flight split at every offset. */
    DWORD sizes_seen[3];
    for (int f = 0; f < 3; f++) {
        sizes_seen[f] = handshake_split(f, 0xFFFFFFFF);
        delete_pair();
    }
    for (int f = 0; f < 3; f++) {
        DWORD step_by = quick ? 97 : 1;
        for (DWORD k = 1; k < sizes_seen[f]; k += step_by) {
            handshake_split(f, k);
            delete_pair();
        }
    }

    /* One record split at every offset, and DecryptMessage with too few buffers. */
    handshake_split(-1, 0);
    EXPECT(QueryContextAttributesA(&client.ctx, SECPKG_ATTR_STREAM_SIZES, &sizes), SEC_E_OK);
    char rec[256];
    const char *text = "split me at every offset";
    DWORD tl = (DWORD)strlen(text);
    memcpy(rec + sizes.cbHeader, text, tl);
    b[0].pvBuffer = rec; b[0].cbBuffer = sizes.cbHeader; b[0].BufferType = SECBUFFER_STREAM_HEADER;
    b[1].pvBuffer = rec + sizes.cbHeader; b[1].cbBuffer = tl; b[1].BufferType = SECBUFFER_DATA;
    b[2].pvBuffer = rec + sizes.cbHeader + tl; b[2].cbBuffer = sizes.cbTrailer; b[2].BufferType = SECBUFFER_STREAM_TRAILER;
    b[3].pvBuffer = NULL; b[3].cbBuffer = 0; b[3].BufferType = SECBUFFER_EMPTY;
    d.cBuffers = 2;
    EXPECT(EncryptMessage(&client.ctx, 0, &d, 0), SEC_E_INVALID_TOKEN); /* no trailer */
    d.cBuffers = 4;
    EXPECT(EncryptMessage(&client.ctx, 1, &d, 0), SEC_E_UNSUPPORTED_FUNCTION); /* a QOP */
    EXPECT(EncryptMessage(&client.ctx, 0, &d, 0), SEC_E_OK);
    DWORD rl = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
    char work[256];
    for (DWORD k = 0; k < rl; k++) {
        memcpy(work, rec, k);
        b[0].pvBuffer = work; b[0].cbBuffer = k; b[0].BufferType = SECBUFFER_DATA;
        for (int i = 1; i < 4; i++) { b[i].pvBuffer = NULL; b[i].cbBuffer = 0; b[i].BufferType = SECBUFFER_EMPTY; }
        EXPECT(DecryptMessage(&server.ctx, &d, 0, NULL), SEC_E_INCOMPLETE_MESSAGE);
        checks++;
        if (k >= 5 && (b[1].BufferType != SECBUFFER_MISSING || b[1].cbBuffer != rl - k)) {
            printf("CHECK FAILED: %u of %u bytes: SECBUFFER_MISSING %u\n", (unsigned)k, (unsigned)rl, (unsigned)b[1].cbBuffer);
            return 1;
        }
    }
    d.cBuffers = 1;
    memcpy(work, rec, rl);
    b[0].pvBuffer = work; b[0].cbBuffer = rl; b[0].BufferType = SECBUFFER_DATA;
    EXPECT(DecryptMessage(&server.ctx, &d, 0, NULL), SEC_E_INVALID_TOKEN); /* too few buffers */
    d.cBuffers = 4;
    for (int i = 1; i < 4; i++) { b[i].pvBuffer = NULL; b[i].cbBuffer = 0; b[i].BufferType = SECBUFFER_EMPTY; }
    EXPECT(DecryptMessage(&server.ctx, &d, 0, NULL), SEC_E_OK);
    checks++;
    if (b[1].BufferType != SECBUFFER_DATA || b[1].cbBuffer != tl || memcmp(b[1].pvBuffer, text, tl) != 0) {
        printf("CHECK FAILED: the record did not decrypt to its text\n");
        return 1;
    }
    /* A tampered record: an error, and the context stays failed. */
    memcpy(work, rec, rl);
    work[rl - 1] ^= 1;
    b[0].pvBuffer = work; b[0].cbBuffer = rl; b[0].BufferType = SECBUFFER_DATA;
    for (int i = 1; i < 4; i++) { b[i].pvBuffer = NULL; b[i].cbBuffer = 0; b[i].BufferType = SECBUFFER_EMPTY; }
    EXPECT_FAILED(DecryptMessage(&server.ctx, &d, 0, NULL));
    delete_pair();

    /* ApplyControlToken(SCHANNEL_ALERT): the client refuses the server's certificate with
     * certificate_unknown (46); the server receives it. A warning, or an alert the
     * provider cannot produce, is refused. */
    memset(&client, 0, sizeof client);
    memset(&server, 0, sizeof server);
    memset(&to_server, 0, sizeof to_server);
    memset(&to_client, 0, sizeof to_client);
    server.server = 1;
    EXPECT(step(&client, &to_client, 0, &to_server), SEC_I_CONTINUE_NEEDED);
    SCHANNEL_ALERT_TOKEN alert = {SCHANNEL_ALERT, TLS1_ALERT_WARNING, 46};
    SecBuffer ab[1] = {{sizeof alert, SECBUFFER_TOKEN, &alert}};
    SecBufferDesc ad = {SECBUFFER_VERSION, 1, ab};
    EXPECT(ApplyControlToken(&client.ctx, &ad), SEC_E_UNSUPPORTED_FUNCTION);
    alert.dwAlertType = TLS1_ALERT_FATAL;
    alert.dwAlertNumber = 10; /* unexpected_message: no verification produces it */
    EXPECT(ApplyControlToken(&client.ctx, &ad), SEC_E_UNSUPPORTED_FUNCTION);
    alert.dwAlertNumber = 46;
    EXPECT(ApplyControlToken(&client.ctx, &ad), SEC_E_OK);
    ab[0].cbBuffer = 2; /* a token too short for its type */
    EXPECT(ApplyControlToken(&client.ctx, &ad), SEC_E_INVALID_TOKEN);
    EXPECT(step(&server, &to_server, N, &to_client), SEC_I_CONTINUE_NEEDED);
    EXPECT_FAILED(step(&client, &to_client, N, &to_server));
    checks++;
    if (to_server.len == 0) { printf("CHECK FAILED: no alert went out\n"); return 1; }
    EXPECT_FAILED(step(&server, &to_server, N, &to_client));
    delete_pair();

    EXPECT(FreeCredentialsHandle(&client_cred), SEC_E_OK);
    EXPECT(FreeCredentialsHandle(&server_cred), SEC_E_OK);
    printf("OK %d\n", checks);
    return 0;
}

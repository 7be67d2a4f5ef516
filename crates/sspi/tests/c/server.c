/*
 * A Schannel server written the way Windows Schannel servers are: its certificate from
 * the "MY" system store (CertOpenSystemStore + CertFindCertificateInStore by subject),
 * AcquireCredentialsHandle(SECPKG_CRED_INBOUND), the AcceptSecurityContext loop with
 * SECBUFFER_EXTRA / SEC_E_INCOMPLETE_MESSAGE, a DecryptMessage loop reading one line,
 * an EncryptMessage reply, then ApplyControlToken(SCHANNEL_SHUTDOWN) +
 * AcceptSecurityContext for the close_notify.
 *
 * usage: server PORT SUBJECT [tls12|tls13|default] [mutual|alpn NAME] [http]
 * With "http", the server reads a request head (to the empty line) and answers with an
 * HTTP/1.0 response whose body is "echo: <request line>" and whether the client sent a
 * certificate (for curl).
 * With "mutual", ASC_REQ_MUTUAL_AUTH asks the client for a certificate and the server
 * prints "CLIENT CERT <subject bytes>" or "NO CLIENT CERT".
 * Prints "LISTENING" when ready, then "GOT <line>"; on failure "FAILED <call> 0x%08X"
 * and exit status 2.
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

static ULONG ASC_FLAGS = ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY |
                               ASC_REQ_EXTENDED_ERROR | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM;

/* The server's handshake loop. Leaves unused bytes at the front of io. */
static const char *g_alpn = NULL;

static SECURITY_STATUS accept_loop(int fd, PCredHandle cred, CtxtHandle *ctx, char *io, DWORD *io_len) {
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;
    int first = 1;
    while (st == SEC_I_CONTINUE_NEEDED || st == SEC_E_INCOMPLETE_MESSAGE) {
        if (*io_len == 0 || st == SEC_E_INCOMPLETE_MESSAGE) {
            ssize_t r = recv(fd, io + *io_len, IO_BUFFER_SIZE - *io_len, 0);
            if (r <= 0) return SEC_E_INTERNAL_ERROR;
            *io_len += (DWORD)r;
        }
        SecBuffer in[3], out[1];
        unsigned char alpn_buf[300] __attribute__((aligned(8)));
        SecBufferDesc in_d, out_d;
        in[0].pvBuffer = io; in[0].cbBuffer = *io_len; in[0].BufferType = SECBUFFER_TOKEN;
        in[1].pvBuffer = NULL; in[1].cbBuffer = 0; in[1].BufferType = SECBUFFER_EMPTY;
        in_d.ulVersion = SECBUFFER_VERSION; in_d.cBuffers = 2; in_d.pBuffers = in;
        if (first && g_alpn != NULL) {
            /* The protocols the server accepts, beside the token, on the first call. */
            size_t n = strlen(g_alpn);
            SEC_APPLICATION_PROTOCOLS *p = (SEC_APPLICATION_PROTOCOLS *)alpn_buf;
            p->ProtocolLists[0].ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
            p->ProtocolLists[0].ProtocolListSize = (unsigned short)(n + 1);
            p->ProtocolLists[0].ProtocolList[0] = (unsigned char)n;
            memcpy(&p->ProtocolLists[0].ProtocolList[1], g_alpn, n);
            p->ProtocolListsSize = (ULONG)(offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + n + 1);
            in[2].pvBuffer = alpn_buf;
            in[2].cbBuffer = (ULONG)(offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists) + p->ProtocolListsSize);
            in[2].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
            in_d.cBuffers = 3;
        }
        out[0].pvBuffer = NULL; out[0].cbBuffer = 0; out[0].BufferType = SECBUFFER_TOKEN;
        out_d.ulVersion = SECBUFFER_VERSION; out_d.cBuffers = 1; out_d.pBuffers = out;
        ULONG attrs = 0;
        TimeStamp expiry;
        st = AcceptSecurityContext(cred, first ? NULL : ctx, &in_d, ASC_FLAGS, SECURITY_NATIVE_DREP,
                                   first ? ctx : NULL, &out_d, &attrs, &expiry);
        if (st == SEC_E_INCOMPLETE_MESSAGE) continue;
        first = 0;
        if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED || (FAILED(st) && (attrs & ASC_RET_EXTENDED_ERROR))) {
            if (out[0].cbBuffer != 0 && out[0].pvBuffer != NULL) {
                send_all(fd, out[0].pvBuffer, out[0].cbBuffer);
                FreeContextBuffer(out[0].pvBuffer);
            }
        }
        if (FAILED(st)) return st;
        if (in[1].BufferType == SECBUFFER_EXTRA) {
            memmove(io, io + (*io_len - in[1].cbBuffer), in[1].cbBuffer);
            *io_len = in[1].cbBuffer;
        } else {
            *io_len = 0;
        }
    }
    return st;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: server PORT SUBJECT [tls12|tls13|default]\n");
        return 64;
    }
    const char *proto = argc > 3 ? argv[3] : "default";
    int mutual = argc > 4 && strcmp(argv[4], "mutual") == 0;
    if (argc > 5 && strcmp(argv[4], "alpn") == 0) g_alpn = argv[5];
    if (mutual) ASC_FLAGS |= ASC_REQ_MUTUAL_AUTH;
    int http = 0;
    for (int i = 4; i < argc; i++) if (strcmp(argv[i], "http") == 0) http = 1;
    int client_cert = 0;

    HCERTSTORE my = CertOpenSystemStoreA(0, "MY");
    if (my == NULL) return fail("CertOpenSystemStoreA", SEC_E_NO_CREDENTIALS);
    PCCERT_CONTEXT cert = CertFindCertificateInStore(my, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_A, argv[2], NULL);
    if (cert == NULL) return fail("CertFindCertificateInStore", SEC_E_NO_CREDENTIALS);

    SCHANNEL_CRED sc;
    memset(&sc, 0, sizeof sc);
    sc.dwVersion = SCHANNEL_CRED_VERSION;
    sc.cCreds = 1;
    sc.paCred = &cert;
    if (strcmp(proto, "tls12") == 0) sc.grbitEnabledProtocols = SP_PROT_TLS1_2_SERVER;
    if (strcmp(proto, "tls13") == 0) sc.grbitEnabledProtocols = SP_PROT_TLS1_3_SERVER;
    sc.dwFlags = SCH_USE_STRONG_CRYPTO;
    CredHandle cred;
    TimeStamp expiry;
    SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL,
                                                   NULL, &cred, &expiry);
    CertFreeCertificateContext(cert);
    CertCloseStore(my, 0);
    if (st != SEC_E_OK) return fail("AcquireCredentialsHandleA", st);

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0) return fail("bind", SEC_E_INTERNAL_ERROR);
    printf("LISTENING\n");
    fflush(stdout);
    int fd = accept(ls, NULL, NULL);
    close(ls);
    if (fd < 0) return fail("accept", SEC_E_INTERNAL_ERROR);

    char *io = malloc(IO_BUFFER_SIZE);
    DWORD io_len = 0;
    CtxtHandle ctx = {0, 0};
    st = accept_loop(fd, &cred, &ctx, io, &io_len);
    if (st != SEC_E_OK) {
        int rc = fail("AcceptSecurityContext", st);
        DeleteSecurityContext(&ctx);
        FreeCredentialsHandle(&cred);
        free(io);
        close(fd);
        return rc;
    }
    SecPkgContext_StreamSizes sizes;
    st = QueryContextAttributesA(&ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA", st);
    SecPkgContext_ConnectionInfo info;
    st = QueryContextAttributesA(&ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    if (st != SEC_E_OK) return fail("QueryContextAttributesA", st);
    printf("PROTOCOL 0x%X\n", info.dwProtocol);
    if (g_alpn != NULL) {
        SecPkgContext_ApplicationProtocol ap;
        st = QueryContextAttributesA(&ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &ap);
        if (st != SEC_E_OK) return fail("QueryContextAttributesA(APPLICATION_PROTOCOL)", st);
        printf("ALPN %.*s\n", ap.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success ? ap.ProtocolIdSize : 4,
               ap.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success ? (const char *)ap.ProtocolId : "none");
    }
    if (mutual) {
        PCCERT_CONTEXT peer = NULL;
        st = QueryContextAttributesA(&ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer);
        if (st == SEC_E_OK) {
            printf("CLIENT CERT %u\n", peer->pCertInfo->Subject.cbData);
            client_cert = 1;
            CertFreeCertificateContext(peer);
        } else if (st == SEC_E_NO_CREDENTIALS) {
            printf("NO CLIENT CERT\n");
        } else {
            return fail("QueryContextAttributesA(REMOTE_CERT_CONTEXT)", st);
        }
    }

    {
        SecPkgContext_CipherInfo ci;
        st = QueryContextAttributesA(&ctx, SECPKG_ATTR_CIPHER_INFO, &ci);
        if (st != SEC_E_OK) return fail("QueryContextAttributesA(CIPHER_INFO)", st);
        char suite_name[SZ_ALG_MAX_SIZE], cert_alg[SZ_ALG_MAX_SIZE];
        for (int i = 0; i < SZ_ALG_MAX_SIZE; i++) {
            suite_name[i] = (char)ci.szCipherSuite[i];
            cert_alg[i] = (char)ci.szCertificate[i];
        }
        printf("CIPHERINFO protocol 0x%X suite 0x%04X %s cert %s\n", (unsigned)ci.dwProtocol,
               (unsigned)ci.dwCipherSuite, suite_name, cert_alg);
        PCCERT_CONTEXT local = NULL;
        st = QueryContextAttributesA(&ctx, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &local);
        if (st != SEC_E_OK) return fail("QueryContextAttributesA(LOCAL_CERT_CONTEXT)", st);
        char n[256];
        CertGetNameStringA(local, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, n, sizeof n);
        printf("LOCALCERT %s\n", n);
        CertFreeCertificateContext(local);
    }

    /* Read one line (or, for HTTP, a request head). */
    char line[1024];
    size_t line_len = 0;
    SecBuffer b[4];
    SecBufferDesc d;
    st = SEC_E_OK;
    while (http ? (line_len < 4 || memcmp(line + line_len - 4, "\r\n\r\n", 4) != 0)
                : memchr(line, '\n', line_len) == NULL) {
        if (io_len == 0 || st == SEC_E_INCOMPLETE_MESSAGE) {
            ssize_t r = recv(fd, io + io_len, IO_BUFFER_SIZE - io_len, 0);
            if (r <= 0) return fail("recv", SEC_E_INTERNAL_ERROR);
            io_len += (DWORD)r;
        }
        b[0].pvBuffer = io; b[0].cbBuffer = io_len; b[0].BufferType = SECBUFFER_DATA;
        for (int i = 1; i < 4; i++) { b[i].pvBuffer = NULL; b[i].cbBuffer = 0; b[i].BufferType = SECBUFFER_EMPTY; }
        d.ulVersion = SECBUFFER_VERSION; d.cBuffers = 4; d.pBuffers = b;
        st = DecryptMessage(&ctx, &d, 0, NULL);
        if (st == SEC_E_INCOMPLETE_MESSAGE) continue;
        if (st != SEC_E_OK) return fail("DecryptMessage", st);
        SecBuffer *data = NULL, *extra = NULL;
        for (int i = 1; i < 4; i++) {
            if (!data && b[i].BufferType == SECBUFFER_DATA) data = &b[i];
            if (!extra && b[i].BufferType == SECBUFFER_EXTRA) extra = &b[i];
        }
        if (data && data->cbBuffer) {
            size_t n = data->cbBuffer < sizeof line - 1 - line_len ? data->cbBuffer : sizeof line - 1 - line_len;
            memcpy(line + line_len, data->pvBuffer, n);
            line_len += n;
        }
        if (extra) {
            memmove(io, extra->pvBuffer, extra->cbBuffer);
            io_len = extra->cbBuffer;
        } else {
            io_len = 0;
        }
        if (line_len == sizeof line - 1) break;
    }
    line[line_len] = 0;
    if (http) {
        /* The request line only. */
        char *eol = strchr(line, '\n');
        if (eol != NULL) eol[1] = 0;
    }
    printf("GOT %s", line);
    fflush(stdout);

    /* Reply. */
    char reply[2400];
    int n;
    if (http) {
        char body[1100];
        int bn = snprintf(body, sizeof body, "echo: %sclient-cert: %s\n", line, client_cert ? "yes" : "no");
        n = snprintf(reply, sizeof reply,
                     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                     bn, body);
    } else {
        n = snprintf(reply, sizeof reply, "echo: %s", line);
    }
    char *msg = malloc(sizes.cbHeader + (size_t)n + sizes.cbTrailer);
    memcpy(msg + sizes.cbHeader, reply, (size_t)n);
    b[0].pvBuffer = msg; b[0].cbBuffer = sizes.cbHeader; b[0].BufferType = SECBUFFER_STREAM_HEADER;
    b[1].pvBuffer = msg + sizes.cbHeader; b[1].cbBuffer = (ULONG)n; b[1].BufferType = SECBUFFER_DATA;
    b[2].pvBuffer = msg + sizes.cbHeader + n; b[2].cbBuffer = sizes.cbTrailer; b[2].BufferType = SECBUFFER_STREAM_TRAILER;
    b[3].pvBuffer = NULL; b[3].cbBuffer = 0; b[3].BufferType = SECBUFFER_EMPTY;
    d.cBuffers = 4;
    st = EncryptMessage(&ctx, 0, &d, 0);
    if (st != SEC_E_OK) return fail("EncryptMessage", st);
    send_all(fd, msg, b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer);
    free(msg);

    /* Shut down. */
    DWORD type = SCHANNEL_SHUTDOWN;
    b[0].pvBuffer = &type; b[0].cbBuffer = sizeof type; b[0].BufferType = SECBUFFER_TOKEN;
    d.cBuffers = 1;
    st = ApplyControlToken(&ctx, &d);
    if (st != SEC_E_OK) return fail("ApplyControlToken", st);
    b[0].pvBuffer = NULL; b[0].cbBuffer = 0; b[0].BufferType = SECBUFFER_TOKEN;
    ULONG attrs;
    st = AcceptSecurityContext(&cred, &ctx, NULL, ASC_FLAGS, SECURITY_NATIVE_DREP, NULL, &d, &attrs, &expiry);
    if (FAILED(st)) return fail("AcceptSecurityContext(shutdown)", st);
    if (b[0].pvBuffer) {
        send_all(fd, b[0].pvBuffer, b[0].cbBuffer);
        FreeContextBuffer(b[0].pvBuffer);
    }
    close(fd);
    free(io);
    if (DeleteSecurityContext(&ctx) != SEC_E_OK) return fail("DeleteSecurityContext", SEC_E_INVALID_HANDLE);
    if (FreeCredentialsHandle(&cred) != SEC_E_OK) return fail("FreeCredentialsHandle", SEC_E_INVALID_HANDLE);
    printf("DONE\n");
    return 0;
}

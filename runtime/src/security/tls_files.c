/* In-memory copies of the TLS files (tls_files.h). A new copy is a new
 * memfd filled completely, then dup3'ed over the descriptor the core's
 * path names, so an open of "/proc/self/fd/N" sees the old content or the
 * new, never a mix. Certificate and key are a group: when either changed,
 * both are read and checked (PEM, and the key is the certificate's) and
 * copied together, or neither is, so one bad or half-written file keeps
 * both previous copies. A group's files are recorded as seen only when
 * installed: a refused rotation is examined again, whole, as soon as any of
 * its files changes again. */
#include "tls_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "error_text.h"
#include "file_watch.h"
#include "log.h"

/* Certificate chains and CA bundles are a few KiB; this is generous. */
#define RT_TLS_FILE_MAX (1024 * 1024)

typedef struct {
    const char *setting; /* "TLS_KEY_FILE", for messages */
    const char *marker;  /* what a usable file contains */
    const char *what;
    char *source; /* the configured path */
    struct stat seen;  /* the file when the copy in use was read */
    struct stat tried; /* the file when its group was last refused */
    char *text; /* read, checked, not yet copied */
    int fd;     /* the copy; -1 before the first */
} mirrored;

enum { CERT, KEY, CA, N_FILES };

struct rt_tls_files {
    mirrored files[N_FILES];
    rt_ticker *ticker;
};

/* Reads m->source into m->text if it holds m->marker. */
static bool read_checked(mirrored *m, char *error, size_t size)
{
    FILE *f = fopen(m->source, "rb");
    if (!f)
        return rt_error_text(error, size, "%s: cannot read '%s': %s", m->setting, m->source, strerror(errno));
    char *text = malloc(RT_TLS_FILE_MAX + 1);
    if (!text)
        abort();
    size_t n = fread(text, 1, RT_TLS_FILE_MAX, f);
    fclose(f);
    text[n] = '\0';
    if (!strstr(text, m->marker)) {
        free(text);
        return rt_error_text(error, size, "%s: '%s' does not hold %s", m->setting, m->source, m->what);
    }
    free(m->text);
    m->text = text;
    return true;
}

/* Replaces m's copy with m->text. */
static void install(mirrored *m)
{
    int fd = memfd_create("tls-copy", MFD_CLOEXEC);
    size_t len = strlen(m->text), done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, m->text + done, len - done);
        if (n < 0 && errno != EINTR)
            abort(); /* memory exhausted: nothing sensible left to do */
        done += n > 0 ? (size_t)n : 0;
    }
    if (fd < 0 || (m->fd >= 0 && dup3(fd, m->fd, O_CLOEXEC) < 0))
        abort();
    if (m->fd < 0)
        m->fd = fd;
    else
        close(fd);
    free(m->text);
    m->text = NULL;
}

/* Never asks for a passphrase: the core cannot use an encrypted key either. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Whether the key in key_pem is the one of the first certificate in cert_pem. */
static bool pair_matches(const char *cert_pem, const char *key_pem)
{
    BIO *cert_bio = BIO_new_mem_buf(cert_pem, -1), *key_bio = BIO_new_mem_buf(key_pem, -1);
    X509 *cert = cert_bio ? PEM_read_bio_X509(cert_bio, NULL, no_passphrase, NULL) : NULL;
    EVP_PKEY *key = key_bio ? PEM_read_bio_PrivateKey(key_bio, NULL, no_passphrase, NULL) : NULL;
    bool match = cert && key && X509_check_private_key(cert, key) == 1;
    EVP_PKEY_free(key);
    X509_free(cert);
    BIO_free(key_bio);
    BIO_free(cert_bio);
    ERR_clear_error();
    return match;
}

/* Reads every file of the group [from, to) into text and checks it: false,
 * with error, when one is unusable or the certificate and key do not match. */
static bool read_group(rt_tls_files *t, int from, int to, char *error, size_t size)
{
    for (int i = from; i < to; i++)
        if (t->files[i].source && !read_checked(&t->files[i], error, size))
            return false;
    if (from == CERT && t->files[CERT].source && t->files[KEY].source && !pair_matches(t->files[CERT].text, t->files[KEY].text))
        return rt_error_text(error, size, "TLS_KEY_FILE: the key in '%s' is not the one of the certificate in '%s'",
                             t->files[KEY].source, t->files[CERT].source);
    return true;
}

/* The group [from, to): when a file changed since its copy was made, and
 * since the group was last refused, reads and checks all its files, then
 * copies them all, or none. */
static void refresh_group(rt_tls_files *t, int from, int to)
{
    struct stat now[N_FILES];
    bool file_changed[N_FILES] = {false}, changed = false, new_since_refused = false;
    for (int i = from; i < to; i++) {
        mirrored *m = &t->files[i];
        if (!m->source)
            continue;
        struct stat tried = m->tried;
        now[i] = m->seen;
        /* stat before reading: a change meanwhile is seen next time */
        changed |= file_changed[i] = rt_file_changed(m->source, &now[i]);
        new_since_refused |= rt_file_changed(m->source, &tried);
    }
    if (!changed || !new_since_refused)
        return;
    char error[512];
    bool usable = read_group(t, from, to, error, sizeof error);
    if (!usable)
        rt_log(RT_LOG_ERROR, "%s; not reloaded, the previous copies stay in use until the files change again", error);
    for (int i = from; i < to; i++) {
        mirrored *m = &t->files[i];
        if (!m->source)
            continue;
        if (usable && file_changed[i]) {
            m->seen = now[i];
            install(m);
            rt_log(RT_LOG_INFO, "%s reloaded from %s", m->setting, m->source);
        } else if (!usable) {
            m->tried = now[i];
        }
        free(m->text);
        m->text = NULL;
    }
}

static void refresh(void *arg)
{
    rt_tls_files *t = arg;
    refresh_group(t, CERT, KEY + 1); /* the pair: both or neither */
    refresh_group(t, CA, CA + 1);
}

rt_tls_files *rt_tls_files_open(rt_config *c, char *error, size_t size)
{
    rt_tls_files *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    char **paths[N_FILES] = {&c->tls_cert_file, &c->tls_key_file, &c->tls_ca_file};
    t->files[CERT] = (mirrored){"TLS_CERT_FILE", "-----BEGIN CERTIFICATE-----", "a PEM certificate", .fd = -1};
    t->files[KEY] = (mirrored){"TLS_KEY_FILE", "PRIVATE KEY-----", "a PEM private key", .fd = -1};
    t->files[CA] = (mirrored){"TLS_CA_FILE", "-----BEGIN CERTIFICATE-----", "PEM CA certificates", .fd = -1};
    for (int i = 0; i < N_FILES; i++) {
        mirrored *m = &t->files[i];
        if (!*paths[i])
            continue;
        m->source = *paths[i]; /* owned from here on */
        *paths[i] = NULL;
        rt_file_changed(m->source, &m->seen); /* before reading: a change meanwhile is seen next time */
    }
    if (!read_group(t, CERT, N_FILES, error, size)) {
        rt_tls_files_close(t);
        return NULL;
    }
    for (int i = 0; i < N_FILES; i++) {
        if (!t->files[i].source)
            continue;
        install(&t->files[i]);
        if (asprintf(paths[i], "/proc/self/fd/%d", t->files[i].fd) < 0)
            abort();
    }
    if (t->files[CERT].source)
        t->ticker = rt_ticker_start(c->reload_seconds, "tls-watch", refresh, t);
    return t;
}

void rt_tls_files_close(rt_tls_files *t)
{
    if (!t)
        return;
    rt_ticker_stop(t->ticker);
    for (int i = 0; i < N_FILES; i++) {
        free(t->files[i].source);
        free(t->files[i].text);
        if (t->files[i].fd >= 0)
            close(t->files[i].fd);
    }
    free(t);
}

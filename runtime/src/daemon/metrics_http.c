/* The /metrics endpoint (metrics_http.h). The listening socket is bound
 * here rather than by libmicrohttpd, so a busy port is reported with its
 * reason, and without SO_REUSEPORT, so a second daemon cannot share it. */
#include "metrics_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "metrics_runtime.h"
#include "server.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct rt_metrics_http {
    struct MHD_Daemon *mhd;
};

/* Queues body (freed by MHD when mode is MHD_RESPMEM_MUST_FREE). */
static enum MHD_Result answer(struct MHD_Connection *connection, unsigned status, const char *body,
                              size_t len, enum MHD_ResponseMemoryMode mode, const char *content_type)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!response) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free((void *)body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

/* GET (or HEAD) /metrics; anything else is 404 or 405. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
    static const char not_found[] = "not found: try /metrics\n";
    static const char not_allowed[] = "method not allowed\n";
    if (strcmp(url, "/metrics") != 0)
        return answer(connection, MHD_HTTP_NOT_FOUND, not_found, sizeof not_found - 1,
                      MHD_RESPMEM_PERSISTENT, "text/plain");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer(connection, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, sizeof not_allowed - 1,
                      MHD_RESPMEM_PERSISTENT, "text/plain");
    size_t len = 0;
    char *text = rt_metrics_render(&len);
    return text ? answer(connection, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE, CONTENT_TYPE)
                : MHD_NO;
}

/* A listening socket on host:port ("[::1]:9464" too); -1 with *error set. */
static int listen_on(const char *address, char **error)
{
    const char *colon = strrchr(address, ':');
    const char *host = address;
    size_t host_len = (size_t)(colon - address);
    if (host[0] == '[') {
        host++;
        host_len -= 2;
    }
    char *host_copy = strndup(host, host_len);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = host_copy ? getaddrinfo(host_copy, colon + 1, &hints, &ai) : EAI_MEMORY;
    free(host_copy);
    if (gai != 0) {
        if (asprintf(error, "cannot listen for metrics on %s: %s", address, gai_strerror(gai)) < 0)
            *error = NULL;
        return -1;
    }
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        fd = -1;
        if (asprintf(error, "cannot listen for metrics on %s: %s", address, strerror(err)) < 0)
            *error = NULL;
    }
    freeaddrinfo(ai);
    return fd;
}

bool rt_metrics_http_start(const rt_service *service, const rt_config *config, rt_metrics_http **out)
{
    *out = NULL;
    if (strcmp(config->metrics_listen, "0") == 0)
        return true;
    rt_metrics_init(service, rt_server_session_count(config));
    rt_metrics_runtime_init(service, RT_VERSION);
    char *error = NULL;
    int fd = listen_on(config->metrics_listen, &error);
    struct MHD_Daemon *mhd = NULL;
    if (fd >= 0) {
        /* From here MHD owns the socket and closes it when stopped. A few
         * connections and a short timeout: scrapers are few and quick. */
        mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handle, NULL,
                               MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 16u,
                               MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
        if (!mhd && asprintf(&error, "cannot start the metrics endpoint on %s", config->metrics_listen) < 0)
            error = NULL;
    }
    if (!mhd) {
        rt_log(RT_LOG_ERROR, "%s", error ? error : "cannot listen for metrics");
        fprintf(stderr, "%s: %s\n", service->daemon_name, error ? error : "cannot listen for metrics");
        free(error);
        return false;
    }
    *out = malloc(sizeof **out);
    if (!*out)
        abort();
    (*out)->mhd = mhd;
    rt_log_with(RT_LOG_INFO, &(rt_log_fields){.address = config->metrics_listen},
                "serving metrics at /metrics");
    return true;
}

void rt_metrics_http_stop(rt_metrics_http *http)
{
    if (!http)
        return;
    MHD_stop_daemon(http->mhd);
    free(http);
}

/* The A43 authorization policy loader and its matcher (authz_policy.c). An
 * input is the policy JSON, a NUL, then NUL-separated call facts: the
 * method path, the certificate's subject, a URI SAN, a DNS SAN, then
 * header key/value pairs. A policy that parses is decided for that call. */
#include <grpc/slice.h>

#include "authz_policy.h"
#include "fuzz_input.h"

#define MAX_HEADERS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_take(&data, &size, '\0');
    char error[512];
    rt_authz_policy *policy = rt_authz_policy_parse(json, error, sizeof error);
    free(json);
    if (!policy) {
        if (!memchr(error, '\0', sizeof error) || !error[0])
            abort(); /* a refusal always says why */
        return 0;
    }
    rt_authz_policy_name(policy);
    char *path = fuzz_take(&data, &size, '\0');
    char *subject = fuzz_take(&data, &size, '\0');
    char *uri = fuzz_take(&data, &size, '\0');
    char *dns = fuzz_take(&data, &size, '\0');
    char *parts[2 * MAX_HEADERS];
    grpc_metadata items[MAX_HEADERS];
    grpc_metadata_array headers = {.count = 0, .capacity = MAX_HEADERS, .metadata = items};
    while (size > 0 && headers.count < MAX_HEADERS) {
        parts[2 * headers.count] = fuzz_take(&data, &size, '\0');
        parts[2 * headers.count + 1] = fuzz_take(&data, &size, '\0');
        items[headers.count].key = grpc_slice_from_static_string(parts[2 * headers.count]);
        items[headers.count].value = grpc_slice_from_static_string(parts[2 * headers.count + 1]);
        headers.count++;
    }
    const char *uris[] = {uri}, *dnss[] = {dns};
    for (int shape = 0; shape < 3; shape++) { /* plaintext, TLS without and with a certificate */
        rt_authz_peer peer = {.tls = shape > 0, .has_cert = shape == 2};
        if (shape == 2)
            peer = (rt_authz_peer){true, true, uris, *uri != 0, dnss, *dns != 0, subject, *uri ? uri : subject};
        rt_authz_decision d = rt_authz_policy_decide(policy, &peer, path, &headers);
        if (d.rule && strlen(d.rule) > strlen(d.rule) + 1) /* the rule's name is a string of the policy */
            abort();
    }
    for (size_t i = 0; i < 2 * headers.count; i++)
        free(parts[i]);
    free(path);
    free(subject);
    free(uri);
    free(dns);
    rt_authz_policy_free(policy);
    return 0;
}

/* Idempotency keys (SPEC "Money safety"), the part every method shares. A
 * request type with a string field named `idempotency_key` takes its key
 * from that field or, for clients built against the old contract, from the
 * `idempotency-key` metadata; the runtime settles which before the handler
 * runs, so handlers read only the field. What a key means for a write (its
 * stored outcome, the replay) is the handler's and its statement's. */
#ifndef RT_IDEMPOTENCY_H
#define RT_IDEMPOTENCY_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "arena.h"
#include "violations.h"

#define RT_IDEMPOTENCY_FIELD "idempotency_key"
#define RT_IDEMPOTENCY_METADATA "idempotency-key"
#define RT_IDEMPOTENCY_KEY_MAX 128

/* Settles request's key: the metadata's value is copied into an empty field;
 * a key that is not 1-128 printable ASCII characters, or a field and a
 * metadata value that differ, adds a violation on idempotency_key. Request
 * types without the field are left alone. */
void rt_idempotency_resolve(rt_arena *arena, const grpc_metadata_array *md, ProtobufCMessage *request,
                            rt_violations *v);

/* "Method:" and the hex of request packed without its key: equal for two
 * requests exactly when they ask for the same thing, whichever way each
 * carried its key. Stored with an operation to refuse a key sent again
 * with another payload. */
const char *rt_idempotency_fingerprint(rt_arena *arena, const char *method, const ProtobufCMessage *request);

/* How long after the database starts a write statement it may still apply:
 * one that reaches its operation row later writes a fence instead
 * (spec/queries/wallet.sql ChangeBalance, TransferFunds). A statement whose
 * connection was lost (an orphan) thus applies, if ever, within this bound
 * of its start, long before the fence or operation row that stands for it
 * in the meantime can be swept: IDEMPOTENCY_TTL is at least
 * RT_IDEMPOTENCY_TTL_MIN_SECONDS, which leaves the orphan an hour, less this
 * bound, to reach the server and start (it was sent before its fence). */
#define RT_WRITE_APPLY_SECONDS 10
#define RT_IDEMPOTENCY_TTL_MIN_SECONDS 3600

/* The id an operation is stored under. A key belongs to its caller and
 * method (SPEC, Money safety): caller is the certificate identity under
 * mutual TLS, NULL for the one anonymous scope (plaintext, or no client
 * certificate); method is the method's path. The id is "op1-" and the hex
 * SHA-256 of the three, so another caller's (or method's) use of the same
 * string is another operation, and the id shows no key. */
const char *rt_idempotency_scoped_id(rt_arena *arena, const char *caller, const char *method, const char *key);

/* IDEMPOTENCY_TTL, set once at start-up (config.h): how long the services
 * keep an operation's outcome before their sweep removes it. */
void rt_idempotency_set_ttl(int seconds);
int rt_idempotency_ttl_seconds(void);

#endif

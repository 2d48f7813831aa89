/* typha-c's wire protocol (typha-c/README.md): one JSON object per line
 * ('\n'-terminated, no raw newline inside: JSON escapes them), over TLS.
 *
 *   client -> server  {"type":"hello","version":1,"node":N,"kinds":[K...],
 *                      "secretsNamespace":NS}
 *   server -> client  {"type":"snapshot","kind":K,"items":[...],"last":B}
 *                     pages per kind, every kind the client asked for, then
 *                     {"type":"synced"}
 *                     {"type":"event","seq":S,"kind":K,"event":"ADDED"|
 *                      "MODIFIED"|"DELETED","object":{...}}  S = 1, 2, ...
 *                     {"type":"ping"}  (idle keepalive)
 *                     {"type":"error","message":M}  then the server closes
 *
 * Every connection starts with a snapshot: a client that reconnects (or was
 * dropped for falling behind) resyncs from it. This module frames and
 * checks messages; it does no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"

#define TYPHAPROTO_VERSION 1
#define TYPHAPROTO_MAX_LINE (64u << 20) /* a message, bytes */
#define TYPHAPROTO_PAGE 500		 /* snapshot items per message */

enum typhaproto_type {
	TYPHAPROTO_HELLO,
	TYPHAPROTO_SNAPSHOT,
	TYPHAPROTO_SYNCED,
	TYPHAPROTO_EVENT,
	TYPHAPROTO_PING,
	TYPHAPROTO_ERROR,
	_TYPHAPROTO_TYPE_MAX,
	_TYPHAPROTO_TYPE_INVALID = -22,
};
const char *typhaproto_type_to_string(enum typhaproto_type t);
enum typhaproto_type typhaproto_type_from_string(const char *s);

/* Splits a byte stream into messages. Owner: its connection. */
struct typhaproto_reader {
	char *buf;
	size_t off, len, cap; /* bytes taken / held / allocated */
	size_t max;	 /* longest line accepted, 0: TYPHAPROTO_MAX_LINE */
};
void typhaproto_reader_done(struct typhaproto_reader *r);

/**
 * typhaproto_reader_feed - append received bytes
 * @r: reader
 * @data: bytes
 * @n: their number
 *
 * Return: 0, -EMSGSIZE (an unterminated line longer than the limit), -ENOMEM.
 */
int typhaproto_reader_feed(struct typhaproto_reader *r, const void *data, size_t n);

/**
 * typhaproto_reader_next - the next complete message
 * @r: reader
 * @ret: the message (a new reference) with a known "type"
 * @ret_type: its type
 *
 * Return: 1 (a message), 0 (need more bytes), -EBADMSG (not a JSON object
 *   with a known "type"), -ENOMEM.
 */
int typhaproto_reader_next(struct typhaproto_reader *r, json_t **ret,
			   enum typhaproto_type *ret_type);

/**
 * typhaproto_encode - a message as one line
 * @msg: JSON object
 * @ret: malloc'd bytes, '\n'-terminated (not NUL-terminated)
 * @ret_len: their number
 *
 * Return: 0, -EMSGSIZE (longer than TYPHAPROTO_MAX_LINE), -ENOMEM.
 */
int typhaproto_encode(const json_t *msg, char **ret, size_t *ret_len);

/**
 * typhaproto_check - validate the fields of a received message
 * @msg: a message from typhaproto_reader_next()
 * @t: its type
 * @ret_error: what is wrong (static text), on -EBADMSG
 *
 * hello: version 1, node a string, kinds an array of strings,
 * secretsNamespace a string; snapshot: kind, items array, last bool; event:
 * seq a positive integer, kind, event ADDED|MODIFIED|DELETED, object an
 * object with metadata.name; error: message a string.
 * Return: 0 or -EBADMSG.
 */
int typhaproto_check(const json_t *msg, enum typhaproto_type t, const char **ret_error);

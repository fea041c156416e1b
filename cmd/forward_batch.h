/*
 * forward_batch.h: one batch of `bwm forward`, as pure data: its records
 * (source offset, content hash, JSON span), the request body (a JSON array
 * built as records are added, bounded by records and bytes), the bodies of
 * sub-ranges when a rejected batch is split, the idempotency key of any range
 * of records, and the range a batch covers as written into the consumer
 * group's offset metadata. Nothing here touches Kafka or HTTP.
 *
 * The idempotency key is a function of the records sent and where they come
 * from: "bwm-<partition>-<first offset>-<last offset>-<16 hex digits>", the
 * digits an XXH64 over the topic, the partition, the offsets and each
 * record's value bytes. A retry, a restart or another instance sending the
 * same records sends the same key.
 */
#ifndef BWM_FORWARD_BATCH_H
#define BWM_FORWARD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Longest idempotency key, with its NUL. */
#define BWM_FWD_KEY_MAX 96

typedef struct bwm_fwd_rec {
    int64_t fr_offset;
    uint64_t fr_hash;   /* XXH64 of the record's value bytes, seeded with its offset */
    size_t fr_json_off; /* its JSON in the batch body */
    size_t fr_json_len;
    void *fr_msg; /* the caller's: the Kafka message, kept for dead letters */
} bwm_fwd_rec_t;

typedef struct bwm_fwd_batch {
    bwm_fwd_rec_t *fb_recs;
    size_t fb_n;
    size_t fb_cap;
    bwm_buf_t fb_body;       /* "[" json "," json ... "]" once closed */
    size_t fb_max_records;   /* of this batch */
    size_t fb_max_bytes;     /* of this batch's body */
    size_t fb_max_rec_bytes; /* of one record's JSON, in any batch */
    size_t fb_mark;          /* body length before the record being added */
    int fb_failed;           /* out of memory */
} bwm_fwd_batch_t;

/* What became of a record offered to a batch. */
typedef enum bwm_fwd_add {
    BWM_FWD_ADDED,
    BWM_FWD_FULL,      /* it would take the batch over a bound: it starts the next batch */
    BWM_FWD_TOO_LARGE, /* its JSON alone is over fb_max_rec_bytes: no batch can take it */
} bwm_fwd_add_t;

/*
 * Empties b for a new batch of at most max_records records and a body of at
 * most max_bytes (SIZE_MAX for both when re-forming a batch whose range was
 * recorded); one record's JSON may take at most max_rec_bytes. A zeroed
 * batch is empty; bwm_fwd_batch_free() releases its memory.
 */
void bwm_fwd_batch_reset(bwm_fwd_batch_t *b, size_t max_records, size_t max_bytes,
                         size_t max_rec_bytes);
void bwm_fwd_batch_free(bwm_fwd_batch_t *b);

/* Starts a record: returns the body, to which the caller appends the record's JSON. */
bwm_buf_t *bwm_fwd_batch_begin(bwm_fwd_batch_t *b);

/*
 * Ends the record begun: adds it (offset, its value bytes for the hash, msg)
 * or, when it does not fit, takes its JSON off the body again.
 */
bwm_fwd_add_t bwm_fwd_batch_end(bwm_fwd_batch_t *b, int64_t offset, const void *value,
                                size_t value_len, void *msg);

/* Takes the record begun off the body (its JSON could not be made). */
void bwm_fwd_batch_abort(bwm_fwd_batch_t *b);

/* Closes the body's array. BWM_ERR_NOMEM if any write failed. */
bwm_err_t bwm_fwd_batch_close(bwm_fwd_batch_t *b);

/* Writes the body of records [from, to) (a JSON array) into out, replacing what it held. */
void bwm_fwd_batch_body(const bwm_fwd_batch_t *b, size_t from, size_t to, bwm_buf_t *out);

/* The idempotency key of records [from, to) of a batch read from topic's partition. */
void bwm_fwd_batch_key(const bwm_fwd_batch_t *b, const char *topic, int32_t partition, size_t from,
                       size_t to, char out[BWM_FWD_KEY_MAX]);

/*
 * The offset metadata that records a batch in flight: it covers the records
 * from the committed offset up to last. bwm_fwd_meta_parse() returns 0 and
 * sets *last for such metadata, -1 for anything else (empty, or another
 * tool's).
 */
void bwm_fwd_meta_format(int64_t last, char *out, size_t size);
int bwm_fwd_meta_parse(const char *meta, int64_t *last);

#endif

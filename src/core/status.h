/* status: result codes shared by every engine call. */
#ifndef POLICYD_STATUS_H
#define POLICYD_STATUS_H

typedef enum pd_status {
    PD_OK = 0,
    PD_NOTFOUND,    /* no such key or session */
    PD_NOTSET,      /* a condition (NX, XX) was not met; nothing changed */
    PD_TOOBIG,      /* can never fit the session's budget */
    PD_SYSFULL,     /* the system budget cannot make room */
    PD_NOSESSION,   /* no session slot or arena left */
    PD_DENIED,      /* writes to the session are denied */
    PD_NOTINT,      /* value is not an integer or out of range */
    PD_OVERFLOW,    /* increment or decrement would overflow */
    PD_INVALID,     /* a bad argument: empty key, bad expire time... */
    PD_NOMEM,       /* jemalloc refused an allocation */
    PD_REFUSED,     /* the policy refused to open the session */
} pd_status;

/* A short, stable, human-readable message for a status. */
const char *pd_strerror(pd_status s);

#endif

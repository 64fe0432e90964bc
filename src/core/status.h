/* status: the result of every engine call, and its message. */
#ifndef POLICYD_CORE_STATUS_H
#define POLICYD_CORE_STATUS_H

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
    PD_BADNAME,     /* a session name longer than the engine allows */
    PD_POLICYERR,   /* the policy failed to decide (its limits function erred) */
} pd_status;

/* A short, stable, human-readable message for a status. */
static inline const char *pd_strerror(pd_status s)
{
    switch (s) {
    case PD_OK:        return "ok";
    case PD_NOTFOUND:  return "no such key";
    case PD_NOTSET:    return "condition not met";
    case PD_TOOBIG:    return "value can never fit the session's memory budget";
    case PD_SYSFULL:   return "system memory budget exceeded";
    case PD_NOSESSION: return "no session can be created: system session limit reached";
    case PD_DENIED:    return "writes to this session are denied by policy";
    case PD_NOTINT:    return "value is not an integer or out of range";
    case PD_OVERFLOW:  return "increment or decrement would overflow";
    case PD_INVALID:   return "invalid argument";
    case PD_NOMEM:     return "out of memory";
    case PD_REFUSED:   return "the policy refused to open this session";
    case PD_BADNAME:   return "session name too long";
    case PD_POLICYERR: return "the policy failed to give this session its limits";
    }
    return "unknown status";
}

#endif

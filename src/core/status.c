#include "core/status.h"

const char *pd_strerror(pd_status s)
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
    }
    return "unknown status";
}

/* alerts: level-triggered de-duplication, the ring, counts, subscribers. */
#include <string.h>

#include "policy/alerts.h"
#include "check.h"

static int delivered;
static char last_kind[ALERT_KIND_MAX];

static void subscriber(void *ud, const alert_t *a)
{
    (void)ud;
    delivered++;
    memcpy(last_kind, a->kind, sizeof(last_kind));
}

static alert_t make(const char *kind, const char *session, alert_severity sev)
{
    alert_t a = {.severity = sev};
    snprintf(a.kind, sizeof(a.kind), "%s", kind);
    snprintf(a.session, sizeof(a.session), "%s", session);
    return a;
}

int main(void)
{
    alerts_t *al = alerts_create(4);
    REQUIRE(al);
    alerts_subscribe(al, subscriber, NULL);
    alert_t hot = make("hot", "a", ALERT_WARNING);

    /* Raised at every sample: delivered once, until a sample without it. */
    for (int sample = 0; sample < 3; sample++) {
        alerts_begin_sample(al);
        CHECK(alerts_raise(al, &hot) == (sample == 0));
        CHECK(!alerts_raise(al, &hot)); /* twice in one sample: once */
        alerts_end_sample(al);
    }
    CHECK_EQ_U(delivered, 1);
    alerts_begin_sample(al);
    alerts_end_sample(al);
    alerts_begin_sample(al);
    CHECK(alerts_raise(al, &hot));
    alerts_end_sample(al);
    CHECK_EQ_U(delivered, 2);

    /* Told apart by kind and by session. */
    alerts_begin_sample(al);
    alert_t other_session = make("hot", "b", ALERT_WARNING);
    alert_t other_kind = make("cold", "a", ALERT_ERROR);
    CHECK(!alerts_raise(al, &hot));
    CHECK(alerts_raise(al, &other_session));
    CHECK(alerts_raise(al, &other_kind));
    alerts_end_sample(al);
    CHECK_EQ_U(delivered, 4);
    CHECK(strcmp(last_kind, "cold") == 0);

    /* Outside a sample every alert is delivered. */
    alert_t crit = make("policy_degraded", "", ALERT_CRITICAL);
    CHECK(alerts_raise(al, &crit));
    CHECK(alerts_raise(al, &crit));
    CHECK_EQ_U(alerts_count(al, ALERT_WARNING), 3);
    CHECK_EQ_U(alerts_count(al, ALERT_ERROR), 1);
    CHECK_EQ_U(alerts_count(al, ALERT_CRITICAL), 2);

    /* The ring keeps the newest 4, newest first. */
    alert_t recent[8];
    size_t n = alerts_recent(al, recent, 8);
    CHECK_EQ_U(n, 4);
    CHECK(strcmp(recent[0].kind, "policy_degraded") == 0);
    CHECK(strcmp(recent[2].kind, "cold") == 0);
    CHECK(strcmp(recent[3].kind, "hot") == 0 && strcmp(recent[3].session, "b") == 0);

    CHECK(alert_severity_parse("critical") == ALERT_CRITICAL);
    CHECK(alert_severity_parse("fatal") == -1);
    CHECK(strcmp(alert_severity_name(ALERT_INFO), "info") == 0);
    alerts_destroy(al);
    return check_done();
}

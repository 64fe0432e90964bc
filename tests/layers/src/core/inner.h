/* A core function, for util/upward.c to reach up to. */
#ifndef LAYERS_FIXTURE_INNER_H
#define LAYERS_FIXTURE_INNER_H

int layers_fixture_inner(void);

#endif

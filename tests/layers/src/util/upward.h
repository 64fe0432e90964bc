#ifndef LAYERS_FIXTURE_UPWARD_H
#define LAYERS_FIXTURE_UPWARD_H

int layers_fixture_upward(void);

#endif

// What runs before the Swift runtime starts (startup.c): nothing to call from Swift. The executable
// imports this module so that the dependency, and with it the constructor, is explicit.
#ifndef MUSLCHECK_CSTARTUP_H
#define MUSLCHECK_CSTARTUP_H

/// Nonzero once the start-up checks passed (they end the process otherwise).
int muslcheck_started(void);

#endif

#include <libelf.h>
#include <gelf.h>
#include "busguard.h"

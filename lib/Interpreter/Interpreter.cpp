// Placeholder until the interpreter lands.
#include "tfx/Interpreter/Interpreter.h"

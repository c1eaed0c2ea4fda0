//===- Interpreter.cpp - run a function of tfx ops ------------------------===//
#include "tfx/Interpreter/Interpreter.h"

// The ferry plugin SDK: include this one header to write a connector plugin.
// It depends on the C++20 standard library and ferry/abi.h only.
#pragma once

#include "ferry/abi.h"
#include "ferry/config.hpp"
#include "ferry/plugin.hpp"
#include "ferry/record.hpp"
#include "ferry/status.hpp"
#include "ferry/task.hpp"

// Everything a plugin author needs, in one include.
#pragma once

#include "ntkssl/architecture.hpp"
#include "ntkssl/augmentation.hpp"
#include "ntkssl/config.hpp"
#include "ntkssl/context.hpp"
#include "ntkssl/dataset.hpp"
#include "ntkssl/errors.hpp"
#include "ntkssl/kernel.hpp"
#include "ntkssl/linalg.hpp"
#include "ntkssl/loss.hpp"
#include "ntkssl/ops.hpp"
#include "ntkssl/plugin.hpp"
#include "ntkssl/random.hpp"
#include "ntkssl/tensor.hpp"
#include "ntkssl/version.hpp"

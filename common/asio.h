// SPDX-License-Identifier: Apache-2.0
// The one way to include Boost.Asio. Debian 12's Boost 1.74 Asio does not
// compile under g++ 12 in C++20 mode unless <utility> comes first
// ('exchange' is not a member of 'std' in boost/asio/awaitable.hpp).
#pragma once

#include <utility>

#include <boost/asio.hpp>

// SPDX-License-Identifier: Apache-2.0
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

std::string to_string(const SignalKind& kind) {
  std::string out = kind.basis == Basis::kAverage ? "average" : "marginal";
  out += kind.scope == Scope::kDirect ? "/direct" : "/lifecycle";
  switch (kind.horizon) {
    case Horizon::kForecast:
      out += "/forecast";
      break;
    case Horizon::kObserved:
      out += "/observed";
      break;
    case Horizon::kAnnualAverage:
      out += "/annual-average";
      break;
  }
  return out;
}

}  // namespace lowcarb::forecast

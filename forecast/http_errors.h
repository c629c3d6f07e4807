// SPDX-License-Identifier: Apache-2.0
// Shared failure handling for the HTTP providers: how an HTTP status, a
// transport error or an unreadable body becomes an Error, how Retry-After is
// read, and how secrets are kept out of every message. Pure functions;
// thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

// Where a request came from, for messages: "electricitymaps: GET
// /carbon-intensity/forecast?zone=DE". `secrets` are masked wherever the
// context is used (tokens, passwords; values shorter than 4 are ignored).
struct RequestContext {
  std::string provider;  // e.g. "electricitymaps"
  std::string what;      // e.g. "forecast for DE"
  std::vector<std::string> secrets;
};

// At most `max_chars` of `body` on one line, redacted, for error messages.
std::string body_excerpt(std::string_view body,
                         const std::vector<std::string>& secrets,
                         size_t max_chars = 160);

// Parses a Retry-After value: delta-seconds ("120") or an IMF-fixdate
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`; a date in the past
// means 0 s). nullopt when the value is neither.
std::optional<Duration> parse_retry_after(std::string_view value,
                                          TimePoint now);

// The Error for a response whose status is not 2xx:
//   401/403 -> kPermissionDenied (names the provider; says the credentials
//              were rejected), 404 -> kNotFound, 400/422 -> kInvalidArgument,
//   429     -> kUnavailable with a retry hint (see retry_after_hint),
//   5xx and anything else -> kUnavailable.
// The message carries the provider's own error text (JSON `message`, `msg`,
// `error`, `title`/`detail` of problem+json) or a short body excerpt, always
// redacted.
Error http_status_error(const RequestContext& context,
                        const HttpResponse& response, TimePoint now);

// A transport Error (timeout, refused connection, size cap) with the
// provider context added and secrets masked; the code is kept.
Error transport_error(const RequestContext& context, const Error& error);

// An error for a body that is not JSON (an HTML error page, a truncated
// transfer): kUnavailable with a short redacted excerpt.
Error unreadable_body_error(const RequestContext& context,
                            std::string_view body, std::string_view why);

// The delay a 429 error asked for, as written by http_status_error: the
// message ends with "(retry after <N>s)". nullopt for other errors.
std::optional<Duration> retry_after_hint(const Error& error);

// Sends `request` and returns the body of a 2xx response; any other outcome
// is the Error described above (transport_error or http_status_error). Logs
// the redacted URL, status and time taken at debug level.
Result<std::string> fetch_body(HttpClient& http, const HttpRequest& request,
                               const RequestContext& context, TimePoint now);

// Masks `secrets` and the usual credential patterns in `error`'s message.
Error redacted(Error error, const std::vector<std::string>& secrets);

// --- Series helpers shared by the provider parsers. ---

// One parsed value: an interval start and its value (nullopt = null).
struct Sample {
  TimePoint start;
  std::optional<double> gco2_per_kwh;
};

// Turns interval starts into points [start, start + step): sorted, duplicate
// starts dropped (the first wins), `step` = the smallest spacing between
// starts, or `single_step` when there is only one.
std::vector<IntensityPoint> points_from_starts(std::vector<Sample> samples,
                                               Duration single_step);

// Removes the points that ended at or before `now`.
void drop_ended(IntensitySeries& series, TimePoint now);

// Keeps the points that overlap [from, to).
void keep_overlapping(IntensitySeries& series, TimePoint from, TimePoint to);

// Splits [from, to) into consecutive ranges no longer than `max_span`.
// REQUIRES: max_span > 0.
std::vector<std::pair<TimePoint, TimePoint>> split_range(TimePoint from,
                                                         TimePoint to,
                                                         Duration max_span);

// Appends `part`'s points to `into`, then sorts by start and drops points
// whose start repeats (the earlier chunk wins).
void append_points(IntensitySeries& into, const IntensitySeries& part);

// A provider's history of `zone` over [from, to): fetched by `fetch_chunk`
// in consecutive ranges no longer than `max_span` (the APIs cap one
// request's range), then joined and cut to [from, to). A chunk without data
// (kNotFound) is skipped, any other error returned. An empty range is
// kInvalidArgument, no data at all kNotFound; both name `provider`, `zone`
// and the range.
using FetchChunk = std::function<Result<IntensitySeries>(TimePoint, TimePoint)>;
Result<IntensitySeries> fetch_history_in_chunks(const std::string& provider,
                                                const std::string& zone,
                                                TimePoint from, TimePoint to,
                                                Duration max_span,
                                                const FetchChunk& fetch_chunk);

}  // namespace lowcarb::forecast

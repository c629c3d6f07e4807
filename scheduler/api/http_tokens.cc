// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/http_tokens.h"

#include <unistd.h>

#include <fmt/format.h>

namespace lowcarb::scheduler::api {

Result<std::vector<HttpToken>> load_http_tokens(
    const std::string& legacy_token_file,
    const std::vector<config::HttpTokenConfig>& tokens) {
  std::vector<HttpToken> loaded;
  if (!legacy_token_file.empty()) {
    auto token = read_token_file(legacy_token_file);
    if (!token) {
      return tl::unexpected(token.error());
    }
    auto self =
        peer_for_user(std::to_string(::getuid()), "the daemon's own user");
    Peer peer = self ? *self : Peer{::getuid(), ::getgid(), ""};
    loaded.push_back(HttpToken{std::move(*token), std::move(peer)});
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& entry = tokens[i];
    auto peer = peer_for_user(entry.user,
                              fmt::format("daemon.http_tokens[{}].user", i));
    if (!peer) {
      return tl::unexpected(peer.error());
    }
    auto token = read_token_file(entry.file);
    if (!token) {
      return tl::unexpected(token.error().with_context(
          fmt::format("daemon.http_tokens[{}] (user {})", i, entry.user)));
    }
    loaded.push_back(HttpToken{std::move(*token), std::move(*peer)});
  }
  if (loaded.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--http needs a bearer token: daemon.http_tokens "
                      "({file, user} per user) or --http-token-file (acts as "
                      "the daemon's own user); the HTTP API always requires "
                      "one");
  }
  return loaded;
}

}  // namespace lowcarb::scheduler::api

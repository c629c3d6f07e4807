// SPDX-License-Identifier: Apache-2.0
// `lowcarb report`: the emissions ledger of the state database as a table,
// JSON, a CodeCarbon emissions.csv or a LaTeX sentence. Reads
// <state_dir>/lowcarb.db read-only, so it works beside a running daemon (WAL
// readers do not block the writer) and without one. Users see their own jobs;
// root sees everyone's. The database is 0600 (it holds every job's
// environment), so other users get their own rows from the daemon's
// `report` request instead (report_wire.h).
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/sqlite_database.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"
#include "scheduler/report.h"
#include "scheduler/report_wire.h"
#include "scheduler/sqlite_job_store.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "report";

struct ReportArgs {
  std::string job;
  std::string since;
  std::string state_dir;
  bool json = false;
  std::string csv;
  bool latex = false;
  std::optional<double> functional_units;
  std::string functional_unit_name = "unit";
  std::optional<double> embodied_kg;
  std::string socket;  // Used only when the database is not readable.
};

// An SQLite URI for opening `path` read-only; '%', '?' and '#' would
// otherwise be read as URI syntax.
std::string read_only_uri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  return uri + "?mode=ro";
}

// Opens the state database read-only when this SQLite reads URIs in plain
// file names (Debian's does), else read-write, which is as safe for a
// reader, just not enforced.
Result<std::unique_ptr<Database>> open_state_database(const std::string& path) {
  bool uris = false;
  if (auto probe = Database::open(":memory:")) {
    auto rows = (*probe)->query("SELECT sqlite_compileoption_used('USE_URI')");
    uris = rows && !rows->empty() && (*rows)[0].integer(0) == 1;
  }
  return Database::open(uris ? read_only_uri(path) : path);
}

std::string first_line_value(const std::string& line) {
  auto colon = line.find(':');
  return colon == std::string::npos
             ? std::string()
             : std::string(trim(std::string_view(line).substr(colon + 1)));
}

// What CodeCarbon would write about this machine: the os string, and the
// CPU and memory from /proc (empty when unreadable).
HostFacts host_facts() {
  HostFacts host;
  struct utsname names {};
  if (::uname(&names) == 0) {
    host.os =
        fmt::format("{}-{}-{}", names.sysname, names.release, names.machine);
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("processor", 0) == 0) {
      ++host.cpu_count;
    } else if (host.cpu_model.empty() && line.rfind("model name", 0) == 0) {
      host.cpu_model = first_line_value(line);
    }
  }
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::string value = first_line_value(line);  // "16318508 kB"
      if (auto kb = parse_integer(value.substr(0, value.find(' ')))) {
        host.ram_total_gb = static_cast<double>(*kb) / (1024.0 * 1024.0);
      }
    }
  }
  return host;
}

// The ledger from the state database itself: root, or the daemon's own
// user. Users see their own jobs; root sees everyone's. False when it
// failed (already reported).
bool read_database(const ReportArgs& args, std::optional<TimePoint> since,
                   const std::string& db_path, const std::string& state_dir,
                   CliContext& context, std::vector<LedgerRecord>& records,
                   std::map<std::string, Job>& jobs) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    context.fail(kCommand,
                 fmt::format("no state database at {} (no job has run with "
                             "state directory {}; pass --state-dir or "
                             "--config)",
                             db_path, state_dir));
    return false;
  }
  auto db = open_state_database(db_path);
  if (!db) {
    context.fail(kCommand, db.error().message);
    return false;
  }
  auto store = SqliteJobStore::open(**db);
  if (!store) {
    context.fail(kCommand, store.error().message);
    return false;
  }
  const unsigned uid = ::getuid();
  LedgerFilter filter;
  filter.since = since;
  if (uid != 0) {
    filter.uid = uid;
  }
  if (!args.job.empty()) {
    auto job = (*store)->get(args.job);
    // Another user's job reads as missing: ids are not secret, but what
    // others ran is.
    if (!job || (uid != 0 && job->spec.uid != uid)) {
      context.fail(kCommand, fmt::format("job {} not found", args.job));
      return false;
    }
    filter.job_id = job->id;
    jobs[job->id] = std::move(*job);
  }
  auto read = (*store)->ledger(filter);
  if (!read) {
    context.fail(kCommand, read.error().message);
    return false;
  }
  records = std::move(*read);
  for (const auto& record : records) {
    if (jobs.count(record.job_id) == 0) {
      if (auto job = (*store)->get(record.job_id)) {
        jobs[record.job_id] = std::move(*job);
      }
    }
  }
  return true;
}

// The caller's own ledger rows through the daemon, for users who may not
// read the database (it is 0600 and only the daemon's). False when it failed
// (already reported, naming the database and the socket).
bool ask_daemon(const ReportArgs& args, std::optional<TimePoint> since,
                const std::string& db_path, CliContext& context,
                std::vector<LedgerRecord>& records,
                std::map<std::string, Job>& jobs) {
  nlohmann::json request{{"op", "report"}, {"ledger", true}};
  if (!args.job.empty()) {
    request["id"] = args.job;
  }
  ClientOptions options;
  options.socket = args.socket;
  auto answer = call_daemon(context, kCommand, options, request);
  if (!answer) {
    if (context.exit_code == kExitDaemonUnreachable) {
      context.err << fmt::format(
          "lowcarb {}: the state database {} is readable only by the "
          "daemon; reports for other users come through the daemon (start "
          "it, or pass --socket)\n",
          kCommand, db_path);
    }
    return false;
  }
  auto wire = ledger_from_wire(*answer);
  if (!wire) {
    context.fail(kCommand, wire.error().message);
    return false;
  }
  for (auto& record : wire->records) {
    if (!since || record.end > *since) {
      records.push_back(std::move(record));
    }
  }
  jobs = std::move(wire->jobs);
  return true;
}

void run_report(const ReportArgs& args, CliContext& context) {
  std::optional<TimePoint> since;
  if (!args.since.empty()) {
    auto parsed = parse_time_spec(args.since, context.clock.now());
    if (!parsed) {
      return context.fail(kCommand, "--since: " + parsed.error().message,
                          kExitUsage);
    }
    since = *parsed;
  }
  std::string state_dir = args.state_dir;
  if (state_dir.empty()) {
    const config::Config* config = context.config();
    if (config == nullptr) {
      return;
    }
    state_dir = config->state_dir;
  }
  const std::string db_path = state_dir + "/lowcarb.db";
  std::vector<LedgerRecord> records;
  std::map<std::string, Job> jobs;
  const bool ok =
      ::getuid() != 0 && ::access(db_path.c_str(), R_OK) != 0 && errno == EACCES
          ? ask_daemon(args, since, db_path, context, records, jobs)
          : read_database(args, since, db_path, state_dir, context, records,
                          jobs);
  if (!ok) {
    return;
  }
  Report report = build_report(records, jobs);

  std::optional<SciOptions> sci;
  if (args.functional_units) {
    sci = SciOptions{*args.functional_units, args.functional_unit_name,
                     args.embodied_kg};
  }
  const SciOptions* sci_ptr = sci ? &*sci : nullptr;
  if (!args.csv.empty()) {
    std::string text = render_csv(report, host_facts());
    if (args.csv == "-") {
      context.out << text;
      return;
    }
    std::ofstream file(args.csv, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      return context.fail(
          kCommand, fmt::format("write {}: cannot write the file", args.csv));
    }
    return;
  }
  if (args.json) {
    context.out << render_json(report, sci_ptr);
  } else if (args.latex) {
    context.out << render_latex(report, sci_ptr);
  } else {
    context.out << render_text(report, sci_ptr);
  }
}

}  // namespace

void add_report_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand(
      "report",
      "Show the emissions ledger: table, JSON, CodeCarbon CSV or LaTeX");
  sub->add_option("--job", args->job, "Only this job");
  sub->add_option("--since", args->since,
                  "Only intervals ending after TIME: ISO 8601 with offset, or "
                  "-DUR (e.g. -24h)");
  sub->add_option("--state-dir", args->state_dir,
                  "Read <DIR>/lowcarb.db (default: the configured state_dir)");
  sub->add_option("--socket", args->socket,
                  "Daemon socket, asked when the database is not readable "
                  "(users other than root and the daemon's)");
  auto* json = sub->add_flag("--json", args->json, "Print JSON");
  auto* csv = sub->add_option("--csv", args->csv,
                              "Write a CodeCarbon emissions.csv to FILE "
                              "('-' = stdout)");
  auto* latex = sub->add_flag("--latex", args->latex,
                              "Print a carbon statement for a paper");
  json->excludes(csv)->excludes(latex);
  csv->excludes(latex);
  auto* units =
      sub->add_option("--functional-unit", args->functional_units,
                      "Also print the SCI per N functional units per job")
          ->check(CLI::PositiveNumber);
  sub->add_option("--functional-unit-name", args->functional_unit_name,
                  "What one functional unit is (default: unit)")
      ->needs(units);
  sub->add_option("--embodied-kg", args->embodied_kg,
                  "Embodied emissions M (kgCO2eq) of the hardware's share "
                  "for the reported work; default: not included")
      ->check(CLI::NonNegativeNumber)
      ->needs(units);
  sub->callback([args, &context] { run_report(*args, context); });
}

}  // namespace lowcarb::scheduler

#include "common/kube/reflector.h"

#include "common/kube/errors.h"
#include "common/kube/path.h"
#include "common/log.h"
#include "spdlog/spdlog.h"

namespace weave::kube {

Reflector::Reflector(Client* client, std::string path, EventHandler* handler,
                     ReflectorOptions options)
    : client_(client),
      path_(std::move(path)),
      handler_(handler),
      options_(std::move(options)),
      name_(options_.name.empty() ? DescribePath(path_) : options_.name),
      random_(options_.random ? options_.random : SystemRandom()),
      log_limiter_(options_.log_interval) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (thread_.joinable() || stop_.HasBeenNotified()) return;
  thread_ = std::thread([this] { Run(); });
}

void Reflector::Stop() {
  absl::MutexLock lock(&lifecycle_mu_);
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

std::string Reflector::resource_version() const {
  absl::MutexLock lock(&mu_);
  return resource_version_;
}

std::optional<Json> Reflector::Get(absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  return store_.Get(key);
}

std::vector<Json> Reflector::List() const {
  absl::MutexLock lock(&mu_);
  return store_.List();
}

void Reflector::Run() {
  Backoff backoff(options_.backoff, random_);
  bool need_list = true;
  while (!stop_.HasBeenNotified()) {
    if (need_list) {
      if (absl::Status listed = ListAndReplace(); !listed.ok()) {
        if (stop_.HasBeenNotified()) break;
        absl::Duration delay = backoff.Next();
        ReportFailure(listed, delay);
        Wait(delay);
        continue;
      }
      need_list = false;
      backoff.Reset();
      ReportRecovery();
      if (!synced_.exchange(true)) handler_->OnSynced();
    }
    const absl::Time started = options_.now();
    bool delivered = false;
    absl::Status watched = WatchOnce(delivered);
    if (stop_.HasBeenNotified()) break;
    if (delivered) {
      backoff.Reset();
      ReportRecovery();
    }
    const bool short_and_empty = !delivered && options_.now() - started < options_.short_watch;
    if (IsApiGone(watched)) {
      spdlog::info("{}; listing again", watched);
      need_list = true;
      if (short_and_empty) Wait(backoff.Next());
    } else if (!watched.ok()) {
      absl::Duration delay = backoff.Next();
      ReportFailure(watched, delay);
      Wait(delay);
    } else if (short_and_empty) {
      absl::Duration delay = backoff.Next();
      spdlog::debug("{}: the watch ended at once; watching again in {}", name_,
                    absl::FormatDuration(delay));
      Wait(delay);
    }
  }
}

absl::Status Reflector::ListAndReplace() {
  ListOptions latest = options_.list;
  latest.resource_version.clear();  // a quorum read: never older than what was seen
  absl::StatusOr<ObjectList> list = client_->List(path_, latest);
  if (!list.ok()) return list.status();
  int rejected = 0;
  std::vector<Change> changes;
  {
    absl::MutexLock lock(&mu_);
    changes = store_.Replace(std::move(list->items), &rejected);
    resource_version_ = list->resource_version;
  }
  if (rejected > 0) {
    spdlog::warn("{}: ignored {} listed objects without metadata.name", name_, rejected);
  }
  for (const Change& change : changes) Deliver(change);
  return absl::OkStatus();
}

absl::Status Reflector::WatchOnce(bool& delivered) {
  WatchOptions watch;
  watch.resource_version = resource_version();
  watch.label_selector = options_.list.label_selector;
  watch.field_selector = options_.list.field_selector;
  watch.timeout_seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(options_.watch_timeout * (1 + random_())));
  auto on_event = [&](WatchEvent event) {
    delivered = true;
    std::string version = ResourceVersionOf(event.object);
    absl::StatusOr<std::optional<Change>> change;
    {
      absl::MutexLock lock(&mu_);
      if (!version.empty()) resource_version_ = version;
      change = store_.Apply(event);
    }
    if (!change.ok()) {
      spdlog::warn("{}: ignored a watch event: {}", name_, change.status());
    } else if (change->has_value()) {
      Deliver(**change);
    }
  };
  return client_->Watch(path_, watch, on_event, &stop_);
}

void Reflector::Deliver(const Change& change) {
  switch (change.kind) {
    case Change::Kind::kAdd:
      handler_->OnAdd(change.object);
      break;
    case Change::Kind::kUpdate:
      handler_->OnUpdate(change.old_object, change.object);
      break;
    case Change::Kind::kDelete:
      handler_->OnDelete(change.object);
      break;
  }
}

void Reflector::Wait(absl::Duration delay) {
  if (options_.sleep) {
    options_.sleep(delay);
  } else {
    stop_.WaitForNotificationWithTimeout(delay);
  }
}

void Reflector::ReportFailure(const absl::Status& error, absl::Duration delay) {
  ++failures_;
  int held_back = 0;
  if (!log_limiter_.Allow(options_.now(), held_back)) return;
  std::string rounded = absl::FormatDuration(absl::Trunc(delay, absl::Milliseconds(1)));
  if (held_back > 0) {
    spdlog::warn("{}; retrying in {} ({} similar messages held back)", error, rounded, held_back);
  } else {
    spdlog::warn("{}; retrying in {}", error, rounded);
  }
}

void Reflector::ReportRecovery() {
  if (failures_ == 0) return;
  spdlog::info("{}: working again after {} failed attempts", name_, failures_);
  failures_ = 0;
  log_limiter_.Reset();
}

}  // namespace weave::kube

// FileStore: Store as one file, replaced atomically on every change.
//
// Every key lives in one file. A change writes the whole new state to
// PATH.tmp in the same directory, fsyncs it, renames it over PATH and fsyncs
// the directory, so PATH always holds either the old state or the new one:
// a crash at any point loses nothing that put() or erase() acknowledged.
//
// Format (little-endian): "LOOMSTOR", u32 version (1), u32 count, then count
// records of u32 key length, key, u32 value length, value, then a CRC-32 of
// everything before it. Values are arbitrary bytes.
//
// A missing PATH is an empty store. A corrupt or truncated PATH is an error
// naming the file and the reason, never silently emptied. A leftover PATH.tmp
// is a write that never completed (it was never renamed, so never
// acknowledged): it is removed on open.
//
// One writer per file: open() takes an exclusive lock on PATH.lock and fails
// when another process (or another FileStore) holds it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "model/host.h"
#include "real-backend/socket_util.h"

namespace loom::live {

class FileStore final : public loom::Store {
 public:
  // Loads path, creating its directory when missing.
  static Result<std::unique_ptr<FileStore>> open(std::string path);

  std::optional<std::string> get(std::string_view key) const override;
  Result<void> put(std::string_view key, std::string_view value) override;
  Result<void> erase(std::string_view key) override;
  std::vector<std::string> keys() const override;

  const std::string& path() const { return path_; }

  // The on-disk encoding, exposed for tests and tools.
  using Values = std::map<std::string, std::string, std::less<>>;
  static std::string encode(const Values& values);
  // Error says what is wrong (bad magic, unsupported version, truncated
  // record N, checksum mismatch, ...); the caller adds the file name.
  static Result<Values> decode(std::string_view bytes);

 private:
  FileStore(std::string path, UniqueFd lock, Values values);
  Result<void> save(const Values& values);

  std::string path_;
  UniqueFd lock_;
  Values values_;
};

}  // namespace loom::live

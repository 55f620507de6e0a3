#include "real-backend/file_store.h"

#include <array>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace loom::live {

namespace {

constexpr std::string_view kMagic = "LOOMSTOR";
constexpr uint32_t kVersion = 1;

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) crc = table[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Reads a u32 at *pos, advancing it; false when fewer than 4 bytes remain.
bool get_u32(std::string_view in, size_t* pos, uint32_t* v) {
  if (in.size() - *pos < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>(in[*pos + i])} << (8 * i);
  *pos += 4;
  return true;
}

std::string directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

Result<void> write_all(int fd, std::string_view bytes, const std::string& name) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("writing " + name + ": " + errno_text(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::optional<std::string>> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return make_error("opening store " + path + ": " + errno_text(errno));
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("reading store " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return std::optional<std::string>(std::move(data));
}

}  // namespace

std::string FileStore::encode(const Values& values) {
  std::string out(kMagic);
  put_u32(out, kVersion);
  put_u32(out, static_cast<uint32_t>(values.size()));
  for (const auto& [key, value] : values) {
    put_u32(out, static_cast<uint32_t>(key.size()));
    out += key;
    put_u32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  put_u32(out, crc32(out));
  return out;
}

Result<FileStore::Values> FileStore::decode(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 12) {
    return make_error("truncated: " + std::to_string(bytes.size()) +
                      " bytes is shorter than the header");
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) return make_error("not a Loom store (bad magic)");
  size_t pos = kMagic.size();
  uint32_t version = 0;
  uint32_t count = 0;
  (void)get_u32(bytes, &pos, &version);
  if (version != kVersion) {
    return make_error("unsupported store version " + std::to_string(version) + " (expected " +
                      std::to_string(kVersion) + ")");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  size_t crc_pos = body.size();
  uint32_t stored_crc = 0;
  (void)get_u32(bytes, &crc_pos, &stored_crc);
  if (crc32(body) != stored_crc) return make_error("checksum mismatch (corrupt or truncated)");

  (void)get_u32(body, &pos, &count);
  Values values;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t key_len = 0;
    uint32_t value_len = 0;
    const std::string record = "record " + std::to_string(i);
    if (!get_u32(body, &pos, &key_len) || body.size() - pos < key_len) {
      return make_error(record + ": truncated key");
    }
    std::string key(body.substr(pos, key_len));
    pos += key_len;
    if (!get_u32(body, &pos, &value_len) || body.size() - pos < value_len) {
      return make_error(record + ": truncated value");
    }
    std::string value(body.substr(pos, value_len));
    pos += value_len;
    if (!values.emplace(std::move(key), std::move(value)).second) {
      return make_error(record + ": duplicate key");
    }
  }
  if (pos != body.size()) {
    return make_error(std::to_string(body.size() - pos) + " unexpected bytes after " +
                      std::to_string(count) + " records");
  }
  return values;
}

Result<std::unique_ptr<FileStore>> FileStore::open(std::string path) {
  if (path.empty()) return make_error("store path is empty");
  std::error_code ec;
  std::filesystem::create_directories(directory_of(path), ec);
  if (ec) return make_error("creating directory of store " + path + ": " + ec.message());

  const std::string lock_path = path + ".lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return make_error("opening " + lock_path + ": " + errno_text(errno));
  if (flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return make_error("store " + path + " is in use (" + lock_path +
                        " is locked by another process or store)");
    return make_error("locking " + lock_path + ": " + errno_text(errno));
  }

  // Never renamed, so never acknowledged: the previous file is the truth.
  const std::string tmp_path = path + ".tmp";
  if (::unlink(tmp_path.c_str()) != 0 && errno != ENOENT) {
    return make_error("removing leftover " + tmp_path + ": " + errno_text(errno));
  }

  auto contents = read_file(path);
  if (!contents) return contents.error();
  Values values;
  if (*contents) {
    auto decoded = decode(**contents);
    if (!decoded) return make_error("store " + path + " is unreadable: " + decoded.error().message);
    values = std::move(*decoded);
  }
  return std::unique_ptr<FileStore>(
      new FileStore(std::move(path), std::move(lock), std::move(values)));
}

FileStore::FileStore(std::string path, UniqueFd lock, Values values)
    : path_(std::move(path)), lock_(std::move(lock)), values_(std::move(values)) {}

std::optional<std::string> FileStore::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<void> FileStore::put(std::string_view key, std::string_view value) {
  Values next = values_;
  next.insert_or_assign(std::string(key), std::string(value));
  if (auto saved = save(next); !saved) return saved;
  values_ = std::move(next);
  return {};
}

Result<void> FileStore::erase(std::string_view key) {
  auto it = values_.find(key);
  if (it == values_.end()) return {};
  Values next = values_;
  next.erase(std::string(key));
  if (auto saved = save(next); !saved) return saved;
  values_ = std::move(next);
  return {};
}

std::vector<std::string> FileStore::keys() const {
  std::vector<std::string> out;
  out.reserve(values_.size());
  for (const auto& [key, value] : values_) out.push_back(key);
  return out;
}

Result<void> FileStore::save(const Values& values) {
  const std::string tmp_path = path_ + ".tmp";
  const std::string bytes = encode(values);
  {
    UniqueFd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return make_error("creating " + tmp_path + ": " + errno_text(errno));
    if (auto written = write_all(fd.get(), bytes, tmp_path); !written) {
      ::unlink(tmp_path.c_str());
      return written;
    }
    if (::fsync(fd.get()) != 0) {
      int err = errno;
      ::unlink(tmp_path.c_str());
      return make_error("fsync " + tmp_path + ": " + errno_text(err));
    }
    if (::close(fd.release()) != 0) {
      int err = errno;
      ::unlink(tmp_path.c_str());
      return make_error("closing " + tmp_path + ": " + errno_text(err));
    }
  }
  if (::rename(tmp_path.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path.c_str());
    return make_error("renaming " + tmp_path + " to " + path_ + ": " + errno_text(err));
  }
  // The rename is durable only once the directory entry is.
  const std::string dir = directory_of(path_);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return make_error("opening directory " + dir + ": " + errno_text(errno));
  if (::fsync(dir_fd.get()) != 0) return make_error("fsync " + dir + ": " + errno_text(errno));
  return {};
}

}  // namespace loom::live

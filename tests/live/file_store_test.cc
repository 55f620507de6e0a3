// FileStore: the durable Store, one atomically replaced file.
#include "real-backend/file_store.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/stat.h>

#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using testing::ScratchDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::unique_ptr<FileStore> open_ok(const std::string& path) {
  auto store = FileStore::open(path);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(FileStore, PutGetEraseKeys) {
  ScratchDir dir;
  auto store = open_ok(dir.file("s"));
  EXPECT_EQ(store->get("a"), std::nullopt);
  EXPECT_TRUE(store->keys().empty());
  ASSERT_TRUE(store->put("b", "2"));
  ASSERT_TRUE(store->put("a", "1"));
  ASSERT_TRUE(store->put("a", "one"));
  EXPECT_EQ(store->get("a"), "one");
  EXPECT_EQ(store->keys(), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(store->erase("a"));
  ASSERT_TRUE(store->erase("never-there"));
  EXPECT_EQ(store->get("a"), std::nullopt);
  EXPECT_EQ(store->keys(), (std::vector<std::string>{"b"}));
}

TEST(FileStore, SurvivesReopenWithArbitraryBytes) {
  ScratchDir dir;
  const std::string path = dir.file("nested/dir/host.store");
  const std::string binary("\0\x01\xff\0end", 7);
  const std::string big(1 << 20, 'x');
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store->put("binary", binary));
    ASSERT_TRUE(store->put(std::string("key\0with nul", 12), "v"));
    ASSERT_TRUE(store->put("empty", ""));
    ASSERT_TRUE(store->put("big", big));
    ASSERT_TRUE(store->put("gone", "soon"));
    ASSERT_TRUE(store->erase("gone"));
  }
  auto store = open_ok(path);
  EXPECT_EQ(store->get("binary"), binary);
  EXPECT_EQ(store->get(std::string("key\0with nul", 12)), "v");
  EXPECT_EQ(store->get("empty"), "");
  EXPECT_EQ(store->get("big"), big);
  EXPECT_EQ(store->get("gone"), std::nullopt);
  EXPECT_EQ(store->keys().size(), 4u);
  EXPECT_EQ(slurp(path).substr(0, 8), "LOOMSTOR");
}

TEST(FileStore, MissingFileIsAnEmptyStore) {
  ScratchDir dir;
  auto store = open_ok(dir.file("fresh"));
  EXPECT_TRUE(store->keys().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.file("fresh")));  // nothing written until a put
}

TEST(FileStore, LeftoverTempFileIsAnUnacknowledgedWriteAndIgnored) {
  ScratchDir dir;
  const std::string path = dir.file("s");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store->put("k", "acknowledged"));
  }
  // A crash between writing the temp file and renaming it.
  spit(path + ".tmp", "half-written garbage");
  auto store = open_ok(path);
  EXPECT_EQ(store->get("k"), "acknowledged");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(FileStore, CorruptFileIsAnErrorNamingTheFileAndTheReason) {
  ScratchDir dir;
  const std::string path = dir.file("s");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store->put("ring", "some tokens"));
  }
  std::string bytes = slurp(path);
  bytes[bytes.size() / 2] ^= 0x20;
  spit(path, bytes);
  auto store = FileStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("checksum"), std::string::npos) << store.error().message;
}

TEST(FileStore, TruncatedOrForeignFilesAreErrors) {
  ScratchDir dir;
  const std::string path = dir.file("s");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store->put("ring", "some tokens"));
  }
  const std::string good = slurp(path);

  spit(path, good.substr(0, good.size() - 3));
  auto truncated = FileStore::open(path);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find(path), std::string::npos);

  spit(path, "");
  auto empty = FileStore::open(path);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("truncated"), std::string::npos) << empty.error().message;

  spit(path, "{\"json\": \"is not our format at all\"}");
  auto foreign = FileStore::open(path);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("magic"), std::string::npos) << foreign.error().message;
}

TEST(FileStore, DecodeRejectsEveryTruncationAndBadVersion) {
  FileStore::Values values{{"a", "1"}, {"bb", std::string("\0\0", 2)}, {"ccc", ""}};
  const std::string good = FileStore::encode(values);
  auto decoded = FileStore::decode(good);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, values);
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_FALSE(FileStore::decode(std::string_view(good).substr(0, len)).ok()) << len;
  }
  std::string newer = good;
  newer[8] = 2;  // version 2
  auto bad = FileStore::decode(newer);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("version 2"), std::string::npos) << bad.error().message;
}

TEST(FileStore, OneWriterPerFile) {
  ScratchDir dir;
  auto first = open_ok(dir.file("s"));
  auto second = FileStore::open(dir.file("s"));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
  first.reset();
  EXPECT_TRUE(FileStore::open(dir.file("s")).ok());
}

TEST(FileStore, FailedWriteIsAnErrorAndChangesNothing) {
  ScratchDir dir;
  const std::string path = dir.file("s");
  auto store = open_ok(path);
  ASSERT_TRUE(store->put("k", "old"));
  // Root ignores permissions, so block the temp file with a directory.
  ASSERT_TRUE(std::filesystem::create_directory(path + ".tmp"));
  auto put = store->put("k", "new");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find(path + ".tmp"), std::string::npos) << put.error().message;
  EXPECT_NE(put.error().message.find("directory"), std::string::npos) << put.error().message;
  EXPECT_EQ(store->get("k"), "old");
  EXPECT_FALSE(store->erase("k").ok());
  EXPECT_EQ(store->get("k"), "old");
  std::filesystem::remove(path + ".tmp");
  store.reset();
  EXPECT_EQ(open_ok(path)->get("k"), "old");
}

}  // namespace
}  // namespace loom::live

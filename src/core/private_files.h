// Permissions of what the engine creates: an Ark holds pseudonymised data that no other local
// user may read, so every file created through core/fs.h (WriteFileAtomic, AppendFile, MakeDirs)
// or OpenPrivate is 0600 and every directory 0700, whatever the umask (the mode is set with
// fchmod/chmod after creation, since the umask may clear bits of the mode passed to open).
#pragma once

#include <string>

namespace ark {

inline constexpr unsigned kPrivateFileMode = 0600;
inline constexpr unsigned kPrivateDirMode = 0700;

// open(2) with O_CLOEXEC; with O_CREAT a regular file is made 0600 (also one that existed).
// Returns the descriptor, or -1 with errno set.
int OpenPrivate(const std::string& path, int flags);

}  // namespace ark

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift does not import.
#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/// Binds text that SQLite copies before the call returns, so the caller's buffer may go at once.
static inline int csqlite_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

#endif

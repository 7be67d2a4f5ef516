/* Layout check: compiled with -DSDK by x86_64-w64-mingw32-gcc against the Windows SDK
 * headers, and without it by the system compiler against securechannel_sspi.h. A wrong
 * number fails the compilation. */
#ifdef SDK
#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <winternl.h>
#include <wincrypt.h>
#include <sspi.h>
#include <schannel.h>
#else
#include "securechannel_sspi.h"
#endif
#include <stddef.h>

#define SIZE(T, n) _Static_assert(sizeof(T) == (n), "sizeof(" #T ") != " #n);
#define OFF(T, f, n) _Static_assert(offsetof(T, f) == (n), "offsetof(" #T ", " #f ") != " #n);
#include "layout_list.h"

int main(void) { return 0; }

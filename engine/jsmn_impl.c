/* jsmn_impl.c - the one compiled copy of jsmn (a header-only JSON tokenizer from
 * Debian's libjsmn-dev), with the same options decode.h declares it with. */
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

// json-c: a tolerant parser (comments allowed) whose tokener reports the byte offset of errors.
#include <json.h>

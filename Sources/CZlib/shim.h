// zlib: gzopen/gzread stream .gz data files (IDX datasets ship gzipped).
#include <zlib.h>

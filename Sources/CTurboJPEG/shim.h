// libjpeg-turbo's TurboJPEG API: JPEG decoding without libjpeg's setjmp/longjmp error handling,
// which Swift cannot call. Its defaults are the ones Pillow decodes with (accurate integer IDCT,
// fancy upsampling).
#include <turbojpeg.h>

// libpng's read API reports errors by longjmp to a setjmp the caller made, which Swift cannot
// do, so the whole decode runs here in C: cnn_png_decode reads the header, refuses images over
// the caller's pixel limit before allocating, and decodes with libpng's own transforms to 8-bit
// samples without touching their values otherwise (no gamma correction, no alpha compositing,
// as Pillow reads PNGs). The caller converts channels.
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    char message[256];
} cnn_png_source;

typedef struct {
    unsigned int width, height;
    // After the transforms: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; all 8-bit.
    int channels;
    int bit_depth, color_type, interlaced;
    // Row-major, channels interleaved; malloc'd, the caller frees it (NULL on failure).
    unsigned char *pixels;
} cnn_png_image;

static void cnn_png_read_bytes(png_structp png, png_bytep out, size_t count) {
    cnn_png_source *source = (cnn_png_source *)png_get_io_ptr(png);
    if (count > source->size - source->offset) png_error(png, "the file ends before the image data does");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

static void cnn_png_error(png_structp png, png_const_charp message) {
    cnn_png_source *source = (cnn_png_source *)png_get_error_ptr(png);
    snprintf(source->message, sizeof source->message, "%s", message);
    png_longjmp(png, 1);
}

static void cnn_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

// Returns 0 on success; 1 with source->message set on a libpng error; 2 when the image has more
// than max_pixels pixels (image->width/height say how many); 3 when memory runs out; 4 when
// keep_indices is set and the image is neither a palette nor 8-bit grey. keep_indices reads a
// palette image's indices, one byte per pixel, instead of its colours (segmentation masks).
static inline int cnn_png_decode(cnn_png_source *source, unsigned long long max_pixels, int keep_indices,
                                 cnn_png_image *image) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, cnn_png_error,
                                             cnn_png_warning);
    if (!png) return 3;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return 3;
    }
    // volatile: assigned between setjmp and a longjmp that may return to it.
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    image->pixels = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, source, cnn_png_read_bytes);
    // libpng's own limits well above any image we accept: the pixel limit below decides.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    image->width = png_get_image_width(png, info);
    image->height = png_get_image_height(png, info);
    image->bit_depth = png_get_bit_depth(png, info);
    image->color_type = png_get_color_type(png, info);
    image->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    if ((unsigned long long)image->width * image->height > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return 2;
    }
    if (keep_indices) {
        int grey8 = image->color_type == PNG_COLOR_TYPE_GRAY && image->bit_depth == 8;
        if (image->color_type != PNG_COLOR_TYPE_PALETTE && !grey8) {
            png_destroy_read_struct(&png, &info, NULL);
            return 4;
        }
        if (image->bit_depth < 8) png_set_packing(png);
    } else if (image->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
    }
    if (image->color_type == PNG_COLOR_TYPE_GRAY && image->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    // The high byte of each 16-bit sample, as Pillow unpacks 16-bit RGB ("RGB;16B").
    if (image->bit_depth == 16) png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    image->channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (row_bytes != (size_t)image->width * image->channels) png_error(png, "unexpected row size");
    pixels = (unsigned char *)malloc(row_bytes * image->height + 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * image->height + 1);
    if (!pixels || !rows) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return 3;
    }
    for (unsigned int y = 0; y < image->height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    image->pixels = pixels;
    return 0;
}

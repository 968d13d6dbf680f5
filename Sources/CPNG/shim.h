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

// Writing: libpng's write API reports errors by longjmp too, so the encode runs here as well,
// into a growing memory buffer the caller frees.
typedef struct {
    unsigned char *data;
    size_t size, capacity;
    int out_of_memory;
    char message[256];
} cnn_png_sink;

static void cnn_png_write_bytes(png_structp png, png_bytep bytes, size_t count) {
    cnn_png_sink *sink = (cnn_png_sink *)png_get_io_ptr(png);
    if (sink->size + count > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 4096;
        while (capacity < sink->size + count) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(sink->data, capacity);
        if (!grown) {
            sink->out_of_memory = 1;
            png_error(png, "out of memory");
        }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, count);
    sink->size += count;
}

static void cnn_png_flush(png_structp png) { (void)png; }

static void cnn_png_write_error(png_structp png, png_const_charp message) {
    cnn_png_sink *sink = (cnn_png_sink *)png_get_error_ptr(png);
    snprintf(sink->message, sizeof sink->message, "%s", message);
    png_longjmp(png, 1);
}

// Encodes 8-bit pixels, row-major: channels 1 (grey), 3 (RGB), or with palette_entries > 0 one
// palette index per pixel and `palette` holding that many RGB triples. Returns 0 on success, 1
// with sink->message set on a libpng error, 3 when memory runs out.
static inline int cnn_png_encode(const unsigned char *pixels, unsigned int width, unsigned int height,
                                 int channels, const unsigned char *palette, int palette_entries,
                                 cnn_png_sink *sink) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, cnn_png_write_error, cnn_png_warning);
    if (!png) return 3;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return 3;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return sink->out_of_memory ? 3 : 1;
    }
    png_set_write_fn(png, sink, cnn_png_write_bytes, cnn_png_flush);
    int color_type = palette_entries > 0 ? PNG_COLOR_TYPE_PALETTE : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY;
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette_entries > 0) {
        png_color colors[256];
        for (int i = 0; i < palette_entries && i < 256; i++) {
            colors[i].red = palette[3 * i];
            colors[i].green = palette[3 * i + 1];
            colors[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, palette_entries < 256 ? palette_entries : 256);
    }
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * (palette_entries > 0 ? 1 : channels);
    for (unsigned int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

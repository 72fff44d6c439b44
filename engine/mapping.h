/* mapping.h - vendor field name -> taxonomy field id, loaded from rules/mappings/NAME.yml.
 *
 * A mapping file is YAML:
 *   decoder: fortigate          # which decoder uses it
 *   fields:                     # vendor key: taxonomy field name (docs/fields.md)
 *     srcip: src_ip
 * Loaded once at start, immutable afterwards: shared read-only by all workers. */
#ifndef HM_MAPPING_H
#define HM_MAPPING_H

#include "hm.h"

typedef struct hm_field_map hm_field_map;

/* Loads one file. On error returns NULL and writes "file:line:col: what" to err. */
hm_field_map *hm_field_map_load(const char *path, char *err, size_t errlen);
/* Loads every *.yml in dir and attaches each to the decoder it names; maps[i] is the map
 * of hm_decoders[i] or NULL. Returns 0 or HM_EUSAGE with err filled. */
int hm_field_maps_load_dir(const char *dir, const hm_field_map **maps, char *err, size_t errlen);
void hm_field_maps_free(const hm_field_map **maps);
/* Taxonomy id for a vendor key, or -1. Lock-free, no allocation. */
int hm_field_map_get(const hm_field_map *m, const char *key, size_t n);
const char *hm_field_map_decoder(const hm_field_map *m);
void hm_field_map_free(hm_field_map *m);

#endif

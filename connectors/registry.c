#include "connector.h"

#define HM_CONNECTOR(name) extern const hm_connector_ops hm_conn_##name;
#include "connector_list.h"
#undef HM_CONNECTOR

const hm_connector_ops *const hm_connectors[] = {
#define HM_CONNECTOR(name) &hm_conn_##name,
#include "connector_list.h"
#undef HM_CONNECTOR
};
const size_t hm_connectors_count = HM_ARRAY_LEN(hm_connectors);

const hm_connector_ops *hm_connector_for_uri(const char *uri) {
    if (!strcmp(uri, "-")) uri = "stdin:";
    const char *colon = strchr(uri, ':'), *slash = strchr(uri, '/');
    if (!colon || (slash && slash < colon)) return &hm_conn_file; /* bare path */
    size_t sl = (size_t)(colon - uri);
    for (size_t i = 0; i < hm_connectors_count; i++)
        if (strlen(hm_connectors[i]->scheme) == sl && !memcmp(hm_connectors[i]->scheme, uri, sl))
            return hm_connectors[i];
    return NULL;
}

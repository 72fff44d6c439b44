/* decoder_list.h - the decoder registry (X-macro). One line per decoder; order breaks
 * probe ties (earlier wins), so specific formats come before generic ones. */
/* firewalls, VPN and web filters */
/* auth, K-12 sources and identity providers */
/* generic fallbacks: keep last */
HM_DECODER(kv)

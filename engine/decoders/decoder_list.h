/* decoder_list.h - the decoder registry (X-macro). One line per decoder; order breaks
 * probe ties (earlier wins), so specific formats come before generic ones. */
/* firewalls, VPN and web filters */
HM_DECODER(fortigate)
HM_DECODER(sonicwall)
HM_DECODER(pfsense)
HM_DECODER(panos)
HM_DECODER(asa)
HM_DECODER(meraki)
HM_DECODER(cef)
HM_DECODER(leef)
HM_DECODER(iboss)
/* auth, K-12 sources and identity providers */
HM_DECODER(sis)
HM_DECODER(doorctl)
HM_DECODER(visitor)
HM_DECODER(sshd)
HM_DECODER(freeradius)
HM_DECODER(ise)
HM_DECODER(dhcpd)
HM_DECODER(sudo)
HM_DECODER(cron)
HM_DECODER(gworkspace)
HM_DECODER(entra)
HM_DECODER(m365)
HM_DECODER(windows)
/* generic fallbacks: keep last */
HM_DECODER(kv)

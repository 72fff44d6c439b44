/* connector_list.h - the connector registry (X-macro): one line per connector. */
HM_CONNECTOR(file)
HM_CONNECTOR(stdin)
HM_CONNECTOR(kafka)
HM_CONNECTOR(syslog_udp)
HM_CONNECTOR(syslog_tcp)
HM_CONNECTOR(syslog_tls)

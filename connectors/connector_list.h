/* connector_list.h - the connector registry (X-macro): one line per connector. */
HM_CONNECTOR(file)
HM_CONNECTOR(stdin)

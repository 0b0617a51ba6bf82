"""The asset ledger (设备台账 / 服务器台账): a center's servers, devices, links and sites
as an XLSX workbook, and back into its YAML file (``pesdc ledger export|import``)."""

"""The page texts in Vietnamese (default, for clerks) and English (for engineers), as data.

One dictionary, key → (vi, en): a missing English text falls back to the Vietnamese, and a test checks that every
key used by a template exists here. Messages that come from the hub itself (reasons, API errors) already carry both
languages and are picked with :func:`pick`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

TEXTS: dict[str, tuple[str, str]] = {
    # layout
    "site": ("Liên Thông", "Liên Thông"),
    "tagline": ("Cổng liên thông dữ liệu Mặt trận", "Fatherland Front data hub"),
    "skip": ("Bỏ qua, đến nội dung chính", "Skip to main content"),
    "nav.upload": ("Gửi dữ liệu", "Upload"),
    "nav.dashboard": ("Theo dõi chất lượng", "Quality dashboard"),
    "nav.catalogue": ("Danh mục dữ liệu", "Dataset catalogue"),
    "nav.sign_out": ("Đăng xuất", "Sign out"),
    "nav.main": ("Điều hướng chính", "Main navigation"),
    "lang.switch": ("English", "Tiếng Việt"),
    "lang.switch_label": ("Switch to English", "Chuyển sang tiếng Việt"),
    "signed_in_as": ("Đang dùng khóa", "Signed in with key"),
    "footer": ("Dữ liệu cá nhân được bảo vệ theo Luật 91/2025/QH15. Mọi lần gửi và tải được ghi nhật ký.",
               "Personal data is protected under law 91/2025/QH15. Every upload and download is audited."),
    # sign-in
    "signin.title": ("Đăng nhập", "Sign in"),
    "signin.intro": ("Dán khóa API do quản trị viên cấp cho đơn vị (bắt đầu bằng lt_). Khóa chỉ được giữ trong "
                     "phiên trình duyệt này và mất khi đóng trình duyệt.",
                     "Paste the API key your administrator gave you (it starts with lt_). It is kept for this "
                     "browser session only and forgotten when the browser closes."),
    "signin.key": ("Khóa API", "API key"),
    "signin.submit": ("Đăng nhập", "Sign in"),
    "signin.bad": ("Khóa API không đúng định dạng: khóa bắt đầu bằng lt_", "That is not an API key: keys start "
                   "with lt_"),
    "signin.signed_out": ("Đã đăng xuất.", "Signed out."),
    "signin.cross_site": ("Yêu cầu đăng nhập được gửi từ một trang web khác nên đã bị từ chối. Hãy mở trang "
                          "đăng nhập của Liên Thông và đăng nhập tại đó.",
                          "A sign-in sent from another web site was refused. Open Liên Thông's own sign-in page "
                          "and sign in there."),
    "signin.expired": ("Mẫu đăng nhập đã hết hạn hoặc không do trang này cấp. Hãy dán khóa và đăng nhập lại.",
                       "The sign-in form expired or did not come from this site. Paste the key and sign in "
                       "again."),
    # upload
    "upload.title": ("Gửi dữ liệu", "Upload a feed"),
    "upload.intro": ("Chọn nguồn, tải mẫu Excel nếu cần, rồi kéo thả tệp CSV hoặc Excel vào ô bên dưới.",
                     "Choose a source, download its Excel template if you need it, then drop a CSV or Excel "
                     "file below."),
    "upload.source": ("Nguồn dữ liệu", "Source"),
    "upload.no_sources": ("Khóa này không được gửi dữ liệu cho nguồn nào.", "This key may not push to any "
                          "source."),
    "upload.columns": ("Các cột cần có", "Expected columns"),
    "upload.template": ("Tải mẫu Excel", "Download the Excel template"),
    "upload.file": ("Tệp dữ liệu (CSV hoặc Excel .xlsx, .xls)", "Data file (CSV or Excel .xlsx, .xls)"),
    "upload.drop": ("Kéo thả tệp vào đây, hoặc bấm để chọn tệp", "Drop the file here, or click to choose one"),
    "upload.chosen": ("Đã chọn", "Chosen"),
    "upload.mode": ("Cách gửi", "What to do"),
    "upload.mode_load": ("Gửi và nạp vào kho", "Upload and load"),
    "upload.mode_check": ("Chỉ kiểm tra, không nạp", "Check only, do not load"),
    "upload.mode_check_hint": ("Kiểm tra bằng đúng các quy tắc khi nạp; không ghi gì vào kho.",
                               "Checked with exactly the rules of a real load; nothing is written."),
    "upload.submit": ("Gửi tệp", "Send the file"),
    "upload.sending": ("Đang gửi tệp…", "Sending the file…"),
    "upload.checking": ("Đang kiểm tra…", "Checking…"),
    "upload.processing": ("Đang xử lý lô dữ liệu…", "Processing the batch…"),
    "upload.recent": ("Các lần gửi gần đây", "Recent uploads"),
    "upload.none_yet": ("Chưa có lần gửi nào.", "No uploads yet."),
    "upload.need_file": ("Hãy chọn một tệp để gửi.", "Choose a file to send."),
    "upload.need_source": ("Hãy chọn nguồn dữ liệu.", "Choose a source."),
    "upload.failed": ("Không gửi được tệp", "The upload failed"),
    "upload.network": ("Mất kết nối tới máy chủ; hãy thử lại.", "The connection to the server failed; try "
                       "again."),
    # statuses
    "status.landed": ("Đã nhận, đang xử lý", "Received, processing"),
    "status.staged": ("Đã kiểm tra, chờ công bố", "Checked, waiting to publish"),
    "status.published": ("Đã công bố", "Published"),
    "status.failed": ("Không xử lý được — gửi lại tệp để thử lại", "Failed — send the file again to retry"),
    "status.checked": ("Đã kiểm tra (không nạp)", "Checked (not loaded)"),
    # result
    "result.title": ("Kết quả lô dữ liệu", "Batch result"),
    "result.check_title": ("Kết quả kiểm tra", "Check result"),
    "result.file": ("Tệp", "File"),
    "result.source": ("Nguồn", "Source"),
    "result.status": ("Trạng thái", "Status"),
    "result.received": ("Dòng nhận được", "Rows received"),
    "result.valid": ("Dòng hợp lệ", "Rows valid"),
    "result.published": ("Dòng đã công bố", "Rows published"),
    "result.quarantined": ("Dòng bị giữ lại", "Rows quarantined"),
    "result.would_quarantine": ("Dòng sẽ bị giữ lại", "Rows that would be quarantined"),
    "result.reconciled": ("Số liệu khớp: mọi dòng đều được công bố hoặc giữ lại kèm lý do.",
                          "Counts reconcile: every row was published or kept back with its reasons."),
    "result.not_reconciled": ("Số liệu chưa khớp: lô chưa xử lý xong.", "Counts do not reconcile yet: the "
                              "batch is still being processed."),
    "result.duplicate": ("Tệp này đã được gửi trước đây: đây là kết quả của lần gửi đó.",
                         "This file was sent before: this is the result of that upload."),
    "result.all_good": ("Không có dòng nào bị lỗi.", "No row failed."),
    "result.rejects": ("Các dòng bị giữ lại và lý do", "Quarantined rows and why"),
    "result.rejects_help": ("Ô tô đỏ là ô cần sửa; lý do ghi ngay dưới giá trị. Tải tệp Excel các dòng lỗi, sửa, "
                            "rồi gửi lại đúng tệp đó (các cột lý do được bỏ qua khi gửi lại).",
                            "Red cells need fixing; the reason is written under the value. Download the rejected "
                            "rows as Excel, fix them and send that same file back (the reason columns are ignored)."),
    "result.download": ("Tải các dòng lỗi (Excel)", "Download the rejected rows (Excel)"),
    "result.resend": ("Gửi lại tệp đã sửa", "Send the fixed file"),
    "result.row": ("Dòng", "Row"),
    "result.all_columns": ("Hiện mọi cột của tệp", "Show every column of the file"),
    "result.to_complete": ("Đã công bố, cần bổ sung", "Published, to complete"),
    "result.to_complete_help": ("Các dòng này đã được công bố, nhưng địa chỉ thuộc xã/phường cũ đã tách thành nhiều "
                                "xã/phường mới: hãy chọn một xã/phường và ghi mã vào cột mã xã/phường, rồi gửi lại.",
                                "These rows are published, but their old ward was split into several 2025 wards: "
                                "pick one, put its code in the ward code column and send the row again."),
    "result.name": ("Họ và tên", "Full name"),
    "result.address": ("Địa chỉ", "Address"),
    "result.candidates": ("Xã/phường cần chọn", "Wards to choose from"),
    "result.other": ("Lý do khác", "Other reasons"),
    "result.truncated": ("Chỉ hiện {shown} dòng đầu; tệp Excel có đủ tất cả.", "Only the first {shown} rows are "
                         "shown; the Excel file has them all."),
    "result.check_capped": ("Kiểm tra chỉ giữ {kept} dòng lỗi đầu tiên; hãy sửa các lỗi này rồi kiểm tra lại.",
                            "A check keeps the first {kept} refused rows only; fix these and check again."),
    "result.refresh": ("Trang sẽ tự cập nhật khi xử lý xong.", "This page refreshes itself until processing "
                       "ends."),
    "result.check_note": ("Chế độ chỉ kiểm tra: chưa có gì được nạp vào kho. Nếu kết quả ổn, hãy gửi lại tệp ở "
                          "chế độ nạp.", "Check only: nothing was loaded. When it looks right, send the file "
                          "again to load it."),
    "result.expired": ("Kết quả kiểm tra này đã hết hạn; hãy kiểm tra lại tệp.", "This check result has "
                       "expired; check the file again."),
    # dashboard
    "dash.title": ("Theo dõi chất lượng dữ liệu", "Data quality dashboard"),
    "dash.scope_admin": ("Toàn bộ các nguồn của hệ thống.", "Every source of the hub."),
    "dash.scope_own": ("Chỉ các nguồn khóa này được gửi.", "Only the sources this key may push to."),
    "dash.sources": ("Các nguồn dữ liệu", "Sources"),
    "dash.last_sync": ("Lần nhận gần nhất", "Last received"),
    "dash.batches": ("Số lô", "Batches"),
    "dash.rows_read": ("Dòng đã đọc", "Rows read"),
    "dash.rows_quarantined": ("Dòng bị giữ", "Rows quarantined"),
    "dash.published": ("Bản ghi công bố", "Published records"),
    "dash.score": ("Điểm chất lượng", "Quality score"),
    "dash.freshness": ("Độ cập nhật", "Freshness"),
    "dash.schedule": ("Lịch", "Schedule"),
    "fresh.ok": ("Đúng hạn", "On time"),
    "fresh.late": ("Trễ hạn", "Late"),
    "fresh.never": ("Chưa có dữ liệu", "No data yet"),
    "fresh.on_demand": ("Theo yêu cầu", "On demand"),
    "dash.score_chart": ("Điểm chất lượng theo thời gian (tỷ lệ dòng hợp lệ mỗi lô)",
                         "Quality score over time (share of valid rows per batch)"),
    "dash.rules": ("Các lỗi thường gặp nhất", "Most frequent failing rules"),
    "dash.rule": ("Quy tắc", "Rule"),
    "dash.column": ("Cột", "Column"),
    "dash.count": ("Số dòng", "Rows"),
    "dash.example": ("Ví dụ lý do", "Example reason"),
    "dash.no_rules": ("Không có dòng nào đang bị giữ lại.", "No row is quarantined."),
    "dash.verification": ("Đối chiếu với Cơ sở dữ liệu quốc gia về dân cư",
                          "Checked against the national population database"),
    "dash.verified": ("Đã đối chiếu", "Checked"),
    "dash.verify_match": ("Khớp", "Match"),
    "dash.verify_mismatch": ("Không khớp", "Mismatch"),
    "dash.verify_not_found": ("Không tìm thấy số CCCD", "ID number not found"),
    "dash.province_chart": ("Số bản ghi theo tỉnh/thành phố", "Records by province"),
    "dash.province": ("Tỉnh/thành phố", "Province"),
    "dash.records": ("Bản ghi", "Records"),
    "dash.no_data": ("Chưa có dữ liệu.", "No data yet."),
    "dash.show_table": ("Xem số liệu dạng bảng", "Show the figures as a table"),
    "dash.batch_at": ("Thời điểm", "When"),
    "dash.review": ("Cặp hồ sơ cần xem xét (có thể trùng người)", "Uncertain matches to review"),
    "dash.review_none": ("Không có cặp nào chờ xem xét.", "No pair is waiting for review."),
    "dash.review_absent": ("Chức năng đối sánh chưa được cài đặt trên kho này.", "Matching is not set up in "
                           "this warehouse."),
    "dash.probability": ("Xác suất trùng", "Match probability"),
    "dash.left": ("Hồ sơ 1", "Record 1"),
    "dash.right": ("Hồ sơ 2", "Record 2"),
    "dash.accept": ("Cùng một người", "Same person"),
    "dash.reject": ("Khác người", "Different people"),
    "dash.decided": ("Đã ghi nhận quyết định.", "Decision recorded."),
    # catalogue
    "cat.title": ("Danh mục dữ liệu", "Dataset catalogue"),
    "cat.published": ("Dữ liệu đã công bố (cần quyền đọc)", "Published datasets (need a read scope)"),
    "cat.open": ("Dữ liệu mở (công khai, đã ẩn ô nhỏ)", "Open data (public, small cells suppressed)"),
    "cat.rows": ("Số bản ghi", "Records"),
    "cat.updated": ("Cập nhật lần cuối", "Last updated"),
    "cat.frequency": ("Tần suất cập nhật", "Update frequency"),
    "cat.publisher": ("Đơn vị công bố", "Publisher"),
    "cat.licence": ("Giấy phép", "Licence"),
    "cat.schema": ("Cấu trúc (các trường)", "Schema (fields)"),
    "cat.field": ("Trường", "Field"),
    "cat.label": ("Tên gọi", "Label"),
    "cat.kind": ("Kiểu", "Kind"),
    "cat.required": ("Bắt buộc", "Required"),
    "cat.privacy": ("Mức riêng tư", "Privacy"),
    "cat.code_list": ("Danh mục", "Code list"),
    "cat.download_csv": ("Tải CSV", "Download CSV"),
    "cat.no_read": ("Khóa này không có quyền đọc bộ dữ liệu này.", "This key may not read this dataset."),
    "cat.no_open": ("Chưa có bản phát hành dữ liệu mở.", "No open-data release yet."),
    "cat.files": ("Tệp tải về", "Files"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "never": ("Chưa bao giờ", "Never"),
    # errors
    "error.title": ("Không thực hiện được", "Something went wrong"),
    "error.forbidden": ("Khóa này không có quyền xem trang này.", "This key may not see this page."),
    "error.not_found": ("Không tìm thấy.", "Not found."),
    "error.csrf": ("Phiên làm việc đã hết hạn; hãy tải lại trang và thử lại.", "The form expired; reload the page "
                   "and try again."),
    "back": ("Quay lại", "Back"),
}


def text(lang: str, key: str, **values: Any) -> str:
    """The text of ``key`` in ``lang`` (English falls back to Vietnamese), formatted with ``values``."""
    vi, en = TEXTS[key]
    chosen = en if lang == "en" and en else vi
    return chosen.format(**values) if values else chosen


def pick(lang: str, item: Mapping[str, Any], vi: str = "message_vi", en: str = "message_en") -> str:
    """A bilingual message of the hub (a reason, an error) in ``lang``."""
    return str(item.get(en) if lang == "en" and item.get(en) else item.get(vi) or item.get(en) or "")

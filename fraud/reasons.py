"""Fraud reasons in words for an adjuster: what a feature's value means, in Chinese and English.

A scored claim carries its top features (`fraud.scoring`); `describe` words each one, e.g.
"该银行账户已被3名不同申请人使用 / bank account used by 3 different claimants", so the reason reads
as a finding, not as a column name.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from fraud.features import CATEGORICAL

__all__ = ["describe"]

_TYPE_ZH = {"outpatient": "门诊", "inpatient": "住院", "accident": "意外", "critical_illness": "重疾"}

# feature: (Chinese, English, Chinese when missing, English when missing); {v} is the value
_WORDING: dict[str, tuple[str, str, str, str]] = {
    "amount": (
        "申请金额{v:,.2f}元",
        "amount claimed {v:,.2f} yuan",
        "申请金额缺失",
        "amount claimed missing",
    ),
    "claim_type": ("理赔类型为{zh}", "claim type {v}", "理赔类型缺失", "claim type missing"),
    "diagnosis": ("诊断编码{v}", "diagnosis code {v}", "诊断编码缺失", "diagnosis code missing"),
    "n_documents": (
        "提交单据{v:.0f}份",
        "{v:.0f} documents submitted",
        "单据数量缺失",
        "document count missing",
    ),
    "failed_checks": (
        "单据校验未通过{v:.0f}项",
        "{v:.0f} document checks failed",
        "单据校验结果缺失",
        "document check results missing",
    ),
    "amount_vs_diagnosis": (
        "金额为同诊断近一年均值的{v:.1f}倍",
        "amount is {v:.1f}x the past-year average for this diagnosis",
        "无同诊断可比金额",
        "no comparable amounts for this diagnosis",
    ),
    "days_since_policy_start": (
        "保单生效后第{v:.0f}天出险",
        "claim {v:.0f} days after the policy started",
        "保单生效日期缺失",
        "policy start date missing",
    ),
    "days_since_reinstatement": (
        "保单复效后第{v:.0f}天出险",
        "claim {v:.0f} days after the policy was reinstated",
        "保单未复效",
        "policy never reinstated",
    ),
    "claimant_n_30d": (
        "申请人近30天已理赔{v:.0f}次",
        "claimant made {v:.0f} claims in the last 30 days",
        "",
        "",
    ),
    "claimant_n_90d": (
        "申请人近90天已理赔{v:.0f}次",
        "claimant made {v:.0f} claims in the last 90 days",
        "",
        "",
    ),
    "claimant_n_365d": (
        "申请人近一年已理赔{v:.0f}次",
        "claimant made {v:.0f} claims in the last year",
        "",
        "",
    ),
    "claimant_n_prior": ("申请人此前共理赔{v:.0f}次", "claimant made {v:.0f} earlier claims", "", ""),
    "claimant_amount_90d": (
        "申请人近90天累计申请{v:,.0f}元",
        "claimant claimed {v:,.0f} yuan in the last 90 days",
        "",
        "",
    ),
    "claimant_amount_365d": (
        "申请人近一年累计申请{v:,.0f}元",
        "claimant claimed {v:,.0f} yuan in the last year",
        "",
        "",
    ),
    "claimant_near_limit_365d": (
        "申请人近一年有{v:.0f}笔略低于闪赔限额的理赔",
        "claimant made {v:.0f} claims just under the flash-pay limit in the last year",
        "",
        "",
    ),
    "claimant_near_limit_share_365d": (
        "申请人近一年{v:.0%}的理赔略低于闪赔限额",
        "{v:.0%} of the claimant's claims in the last year were just under the flash-pay limit",
        "申请人近一年无理赔记录",
        "claimant has no claims in the last year",
    ),
    "claimant_days_since_last": (
        "距该申请人上次理赔{v:.0f}天",
        "{v:.0f} days since the claimant's previous claim",
        "申请人首次理赔",
        "claimant's first claim",
    ),
    "claimant_distinct_accounts": (
        "申请人已使用{v:.0f}个不同银行账户",
        "claimant has used {v:.0f} different bank accounts",
        "",
        "",
    ),
    "acct_distinct_claimants": (
        "该银行账户已被{v:.0f}名不同申请人使用",
        "bank account used by {v:.0f} different claimants",
        "",
        "",
    ),
    "acct_n_90d": (
        "该银行账户近90天已收款理赔{v:.0f}笔",
        "{v:.0f} claims paid to this bank account in the last 90 days",
        "",
        "",
    ),
    "phone_distinct_claimants": (
        "该手机号已被{v:.0f}名不同申请人使用",
        "phone number used by {v:.0f} different claimants",
        "",
        "",
    ),
    "phone_n_90d": (
        "该手机号近90天关联理赔{v:.0f}笔",
        "{v:.0f} claims with this phone number in the last 90 days",
        "",
        "",
    ),
    "provider_n_90d": (
        "该医疗机构近90天理赔{v:.0f}笔",
        "provider had {v:.0f} claims in the last 90 days",
        "",
        "",
    ),
    "provider_amount_ratio_365d": (
        "该医疗机构近一年账单为同诊断同行的{v:.1f}倍",
        "provider's bills averaged {v:.1f}x its peers' for the same diagnoses last year",
        "该医疗机构近一年无理赔记录",
        "provider has no claims in the last year",
    ),
    "provider_inpatient_share_365d": (
        "该医疗机构近一年住院理赔占比{v:.0%}",
        "{v:.0%} of the provider's claims last year were inpatient",
        "该医疗机构近一年无理赔记录",
        "provider has no claims in the last year",
    ),
    "agent_n_90d": (
        "该代理人近90天经手理赔{v:.0f}笔",
        "agent's customers made {v:.0f} claims in the last 90 days",
        "",
        "",
    ),
    "agent_early_share_365d": (
        "该代理人近一年{v:.0%}的理赔发生在投保或复效后{early}天内",
        "{v:.0%} of the agent's claims last year came within {early} days of inception or reinstatement",
        "该代理人近一年无理赔记录",
        "agent has no claims in the last year",
    ),
    "invoice_prior_claims": (
        "该发票号码此前已在{v:.0f}笔理赔中出现",
        "invoice number already used in {v:.0f} earlier claims",
        "",
        "",
    ),
    "invoice_other_claimants": (
        "该发票号码曾被{v:.0f}名其他申请人使用",
        "invoice number used before by {v:.0f} other claimants",
        "",
        "",
    ),
}
# binary features: (Chinese, English) when set, and when not set
_FLAGS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "words_figures_mismatch": (
        ("发票大小写金额不一致", "invoice amount in words and in figures disagree"),
        ("发票大小写金额一致", "invoice amount in words and in figures agree"),
    ),
    "qr_mismatch": (
        ("电子票据二维码与票面信息不一致", "the e-bill's QR code disagrees with its print"),
        ("电子票据二维码与票面一致或无二维码", "no e-bill QR code disagrees with its print"),
    ),
    "near_flash_limit": (
        ("金额略低于闪赔限额{limit:.0f}元", "amount just under the {limit:.0f}-yuan flash-pay limit"),
        ("金额不在闪赔限额附近", "amount not near the flash-pay limit"),
    ),
}


def describe(feature: str, value: Any, *, flash_limit: float = 3000.0, early_days: int = 60) -> str:
    """'中文 / English' wording of one feature value, for the adjuster reading a fraud reason."""
    missing = value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
    if feature in _FLAGS:
        zh, en = _FLAGS[feature][0 if not missing and float(value) >= 0.5 else 1]
        return f"{zh} / {en}".format(limit=flash_limit)
    if feature not in _WORDING:
        return f"{feature} = {value} / {feature} = {value}"
    zh, en, zh_missing, en_missing = _WORDING[feature]
    if missing:
        return f"{zh_missing or feature + '无记录'} / {en_missing or feature + ' has no record'}"
    if feature in CATEGORICAL:
        ctx = {"v": str(value), "zh": _TYPE_ZH.get(str(value), str(value))}
    else:
        ctx = {"v": float(value)}
    return f"{zh} / {en}".format(early=early_days, **ctx)

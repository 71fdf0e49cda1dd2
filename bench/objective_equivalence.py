"""Old (2da553a) vs new: same weights, same input -> same losses and grads."""
import sys, json, re, torch, importlib.util
mode, out = sys.argv[1], sys.argv[2]
root = '/tmp/old' if mode == 'old' else '/work/main'
sys.path.insert(0, root)
import efc_mm  # noqa
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.logging import MessageHub
init_default_scope('mmseg')
from efc_mm.registry import MODELS
spec = importlib.util.spec_from_file_location('mu', '/tmp/old/tests/model_utils.py')
mu = importlib.util.module_from_spec(spec); spec.loader.exec_module(mu)
OLD = {'full': 'synthetic/psp_efc_tiny_synthetic.py', 'baseline': 'synthetic/psp_baseline_tiny_synthetic.py',
       'UL': 'synthetic/psp_efc_tiny_synthetic_ul.py', 'UL+OE': 'synthetic/psp_efc_tiny_synthetic_ul_oe.py',
       'UL+TC': 'synthetic/psp_efc_tiny_synthetic_ul_tc.py', 'UL+OE+TC': 'synthetic/psp_efc_tiny_synthetic_ul_oe_tc.py',
       'TCC_single': 'synthetic/psp_efc_tiny_synthetic_tcc_single.py', 'paper': 'synthetic/psp_efc_tiny_synthetic_paper.py',
       'TCC_multi+OM_unl': 'synthetic/psp_efc_tiny_synthetic_tcc_multi_om_unl.py', 'sep_enc_unl': 'synthetic/psp_efc_tiny_synthetic_sep_enc_unl.py',
       'no_cons': 'synthetic/psp_efc_tiny_synthetic_no_cons.py'}
def key_new(k):  # old Sequential(conv, act) -> ConvModule.conv
    k = re.sub(r'(cost_volume\.(proj|redir|fuse))\.0\.', r'\1.conv.', k)
    k = re.sub(r'(skip_reduce\.\d+)\.0\.', r'\1.conv.', k)
    k = re.sub(r'(contract\.\d+\.\d)\.0\.', r'\1.conv.', k)
    k = re.sub(r'(deconvs\.\d+)\.0\.', r'\1.conv.', k)
    k = re.sub(r'(occ_heads\.\d+)\.conv1\.', r'\1.conv1.conv.', k)
    return k
res = {}
for row, old in OLD.items():
    if mode == 'old':
        cfg = Config.fromfile(f'{root}/configs/{old}')
    else:
        from efc_mm.ablation import compose
        cfg = compose(f'{root}/configs/synthetic/psp_efc_tiny_synthetic.py', row)
    m = cfg.model.to_dict(); m['pretrained'] = None
    m['decode_head']['num_classes'] = 5; m['auxiliary_head']['num_classes'] = 5
    torch.manual_seed(0)
    model = MODELS.build(m)
    path = f'/tmp/eq/w_{row}.pth'
    if mode == 'old':
        torch.save(model.state_dict(), path)
    else:
        sd = {key_new(k): v for k, v in torch.load(path).items()}
        missing, unexpected = model.load_state_dict(sd, strict=True), None
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 900); hub.update_info('max_iters', 1000)
    model.train()
    inputs, samples = mu.pair_batch(b=2, h=64, w=64, num_classes=5, labelled=(True, False), seed=1)
    torch.manual_seed(1)
    losses = model.loss(inputs, samples)
    vals = {k: float(v) for k, v in losses.items() if 'loss' in k}
    groups = {}
    for name, v in losses.items():
        if 'loss' not in name: continue
        model.zero_grad()
        g = torch.autograd.grad(v, [p for p in model.parameters() if p.requires_grad], retain_graph=True, allow_unused=True)
        named = [n for n, p in model.named_parameters() if p.requires_grad]
        norms = {}
        for n, gi in zip(named, g):
            grp = 'flow_decoder' if n.startswith('flow_decoder') and 'occ_heads' not in n else 'occ' if 'occ_heads' in n else 'enc' if n.startswith('backbone') else n.split('.')[0]
            norms[grp] = norms.get(grp, 0.0) + (0.0 if gi is None else float(gi.pow(2).sum()))
        groups[name] = {k: v ** 0.5 for k, v in norms.items()}
    res[row] = dict(losses=vals, grads=groups)
json.dump(res, open(out, 'w'), indent=1)
